//! Hostile bodies (whole-body and per-field cases) with a valid token:
//! all refused, database unchanged (compared row by row, every table).

use super::corpus::{field_cases, whole_body_cases};
use super::judging::Run;
use super::snapshot::snapshot;
use super::world::World;
use crate::harness::TestApp;

both_backends!(hostile_bodies_are_refused_and_change_nothing);

async fn hostile_bodies_are_refused_and_change_nothing(app: TestApp) {
    let world = World::set_up(&app).await;
    let before = snapshot(&app);
    let mut run = Run::new(&app, &world);
    let mut corpus_size = 0;
    for route in &world.routes {
        let path = world.path(route);
        let own_id = route.collection().map(|c| world.fixtures[&c].clone());
        let schema = route.schema.as_deref().unwrap_or("");
        let base = world.base(schema);
        let required = !schema.is_empty() && world.schemas().required(schema);
        let mut cases = whole_body_cases(&base, required);
        cases.extend(field_cases(&world, route, own_id.as_deref()));
        corpus_size += cases.len();
        for case in &cases {
            run.refused(route, &path, case).await;
        }
    }
    eprintln!("{corpus_size} body cases over {} write routes", world.routes.len());
    let after = snapshot(&app);
    run.finish("hostile bodies", &before, &after);
}
