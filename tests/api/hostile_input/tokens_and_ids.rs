//! Hostile tokens and path ids, with a body that a valid token would get
//! stored: all refused, database unchanged.

use super::corpus::{oversized, token_attacks, Case};
use super::judging::Run;
use super::snapshot::snapshot;
use super::world::World;
use crate::harness::TestApp;

both_backends!(hostile_tokens_and_ids_are_refused_and_change_nothing);

async fn hostile_tokens_and_ids_are_refused_and_change_nothing(app: TestApp) {
    let world = World::set_up(&app).await;
    let attacks = token_attacks(&world, &world.secret);
    let before = snapshot(&app);
    let mut run = Run::new(&app, &world);
    for route in &world.routes {
        let path = world.path(route);
        let schema = route.schema.as_deref().unwrap_or("");
        if route.secured {
            for (name, header, status) in &attacks {
                // A body the route's writer would get stored: only the token stands in the way.
                let valid = serde_json::to_vec(&world.base(schema)).expect("body");
                run.refused(
                    route,
                    &path,
                    &Case::new(name.clone(), valid.clone()).auth(header.clone()).expect_some(*status),
                )
                .await;
                let case = Case::new(format!("{name}, body over the limit"), oversized(&valid)).auth(header.clone());
                run.refused(route, &path, &case).await;
                let case = Case::new(format!("{name}, malformed body"), "{\"a\":").auth(header.clone());
                run.refused(route, &path, &case).await;
            }
        }
        let Some(collection) = route.collection() else { continue };
        let other = if collection.ends_with("/areas") { &world.organisation } else { &world.area };
        let encoded_injection: String = url_encode("'; DROP TABLE users;--");
        let ids = [
            ("an SQL injection", encoded_injection),
            ("a NUL", "%00".to_owned()),
            ("a NUL after a real id", format!("{}%00", world.fixtures[&collection])),
            ("an encoded path traversal", "..%2F..%2Fusers".to_owned()),
            ("an encoded script", url_encode("<script>alert(1)</script>")),
            ("invalid UTF-8", "%FF%FE".to_owned()),
            ("the nil uuid", uuid::Uuid::nil().to_string()),
            ("a record that does not exist", uuid::Uuid::new_v4().to_string()),
            ("a record of another kind", other.clone()),
            ("10,000 characters", "a".repeat(10_000)),
        ];
        for (name, id) in ids {
            let case = Case::new(format!("path id: {name}"), serde_json::to_vec(&world.base(schema)).expect("body"));
            run.refused(route, &route.template.replace("{id}", &id), &case).await;
        }
    }
    eprintln!("{} token attacks", attacks.len());
    let after = snapshot(&app);
    run.finish("hostile tokens and ids", &before, &after);
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
