//! Hostile statistics queries: never a 5xx.

use super::world::World;
use crate::harness::TestApp;

both_backends!(hostile_statistics_queries_never_fail_the_server);

async fn hostile_statistics_queries_never_fail_the_server(app: TestApp) {
    let world = World::set_up(&app).await;
    let routes: Vec<String> = world.doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .filter(|p| p.contains("/stats/") || p.contains("/alerts/"))
        .cloned()
        .collect();
    assert!(routes.len() >= 4, "statistics routes: {routes:?}");
    let queries = [
        "group_by=day&from=-262143-01-01&to=+262142-12-31",
        "group_by=week&from=+262142-12-25&to=+262142-12-31",
        "group_by=month,area,setting,product,organisation&from=0000-01-01&to=9999-12-31",
        "from=2026-12-31&to=2026-01-01",
        "as_of=+262142-12-31",
        "as_of=-262143-01-01", // regression (hostile-4): PostgreSQL once answered 500
        "group_by=day,day",
        "group_by=%00",
        "area_id=%27%3B%20DROP%20TABLE%20users%3B--",
        "setting=%3Cscript%3E",
        "from=2026-01-01&from=2026-02-01",
        "%FF%FE=%FF",
        "format=csv&group_by=quarter,kind,outcome,place",
        "limit=18446744073709551616",
    ];
    let mut failures = Vec::new();
    for route in &routes {
        for query in queries {
            let path = format!("{route}?{query}");
            let reply = app.get(&path, &world.admin).await;
            let fine = reply.status.is_success() || (reply.status.is_client_error() && reply.is_problem());
            if !fine {
                failures.push(format!("GET {path}: {} {}", reply.status, reply.body));
            }
        }
    }
    assert!(failures.is_empty(), "statistics ({:?}):\n  {}", app.backend, failures.join("\n  "));
}
