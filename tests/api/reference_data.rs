//! Areas, organisations and products: any signed-in user reads, admins write.

use crate::harness::{TestApp, PASSWORD};
use reqwest::{Method, StatusCode};
use serde_json::json;

both_backends!(
    areas_form_a_tree_without_cycles,
    organisations_belong_to_areas,
    products_are_seeded_and_validated,
    only_admins_write_reference_data,
    reference_data_needs_a_signed_in_user,
    lists_page_without_gaps_or_repeats,
    list_filters_and_limits_are_checked,
);

async fn areas_form_a_tree_without_cycles(app: TestApp) {
    let admin = app.admin().await;
    let scotland = app.create("/api/v1/areas", &admin, json!({"name": "Scotland"})).await;
    let ayrshire =
        app.create("/api/v1/areas", &admin, json!({"name": "NHS Ayrshire and Arran", "parent_id": scotland})).await;
    let east = app
        .post(
            "/api/v1/areas",
            &admin,
            json!({"name": " East Ayrshire ", "parent_id": ayrshire, "population_at_risk": 1200}),
        )
        .await;
    assert_eq!(east.status, StatusCode::CREATED);
    assert_eq!(east.body["name"], "East Ayrshire");
    assert_eq!(east.body["population_at_risk"], 1200);
    assert!(east.body["created_at"].as_str().unwrap().ends_with('Z'));
    let east = east.body["id"].as_str().unwrap().to_owned();

    let cycle = app.patch(&format!("/api/v1/areas/{scotland}"), &admin, json!({"parent_id": east})).await;
    assert_eq!(
        (cycle.status, cycle.body["errors"][0]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("cycle"))
    );
    let own_parent = app.patch(&format!("/api/v1/areas/{scotland}"), &admin, json!({"parent_id": scotland})).await;
    assert_eq!(own_parent.status, StatusCode::UNPROCESSABLE_ENTITY);
    let missing = app.post("/api/v1/areas", &admin, json!({"name": "X", "parent_id": uuid::Uuid::new_v4()})).await;
    assert_eq!(
        (missing.status, missing.error_fields()),
        (StatusCode::UNPROCESSABLE_ENTITY, vec!["parent_id".to_owned()])
    );

    let children = app.get(&format!("/api/v1/areas?parent_id={ayrshire}"), &admin).await;
    assert_eq!(children.body["items"].as_array().unwrap().len(), 1);

    // null clears, absent keeps.
    let cleared = app.patch(&format!("/api/v1/areas/{east}"), &admin, json!({"population_at_risk": null})).await;
    assert_eq!(
        (cleared.body["population_at_risk"].clone(), cleared.body["parent_id"].clone()),
        (json!(null), json!(ayrshire))
    );
    let negative = app.patch(&format!("/api/v1/areas/{east}"), &admin, json!({"population_at_risk": -1})).await;
    assert_eq!(negative.status, StatusCode::UNPROCESSABLE_ENTITY);
    let audit = app.audit_of(&east);
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[1].before.as_ref().unwrap()["population_at_risk"], 1200);
    assert_eq!(audit[1].after["population_at_risk"], json!(null));
}

async fn organisations_belong_to_areas(app: TestApp) {
    let admin = app.admin().await;
    let area = app.create("/api/v1/areas", &admin, json!({"name": "Shetland"})).await;
    let created = app
        .post(
            "/api/v1/organisations",
            &admin,
            json!({"name": "Shetland Recovery Hub", "kind": "recovery_hub", "area_id": area}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.body["tracks_stock"], false);
    let id = created.body["id"].as_str().unwrap();
    let changed =
        app.patch(&format!("/api/v1/organisations/{id}"), &admin, json!({"kind": "lero", "tracks_stock": true})).await;
    assert_eq!((changed.body["kind"].clone(), changed.body["tracks_stock"].clone()), (json!("lero"), json!(true)));
    let bad_kind =
        app.post("/api/v1/organisations", &admin, json!({"name": "X", "kind": "castle", "area_id": area})).await;
    assert_eq!((bad_kind.status, bad_kind.error_fields()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["kind".to_owned()]));
    let no_area = app
        .post("/api/v1/organisations", &admin, json!({"name": "X", "kind": "lero", "area_id": uuid::Uuid::new_v4()}))
        .await;
    assert_eq!(no_area.error_fields(), ["area_id"]);
    let by_kind = app.get("/api/v1/organisations?kind=lero", &admin).await;
    assert_eq!(by_kind.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.get(&format!("/api/v1/organisations?area_id={}", uuid::Uuid::new_v4()), &admin).await.body["items"],
        json!([])
    );
    assert_eq!(app.audit_of(id).len(), 2);
}

async fn products_are_seeded_and_validated(app: TestApp) {
    let admin = app.admin().await;
    let seeded = app.get("/api/v1/products", &admin).await;
    let names: Vec<&str> =
        seeded.body["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Prenoxad 2 mg/2 ml syringe", "Nyxoid 1.8 mg nasal spray", "Naloxone 4 mg nasal spray"]);
    let prenoxad = &seeded.body["items"][0];
    assert_eq!(
        (prenoxad["route"].clone(), prenoxad["doses_per_kit"].clone(), prenoxad["mg_per_dose"].clone()),
        (json!("intramuscular"), json!(5), json!(0.4))
    );

    let new =
        json!({"name": "Naloxone 1.26 mg nasal spray", "route": "intranasal", "doses_per_kit": 2, "mg_per_dose": 1.26});
    let created = app.post("/api/v1/products", &admin, new.clone()).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(
        app.get(&format!("/api/v1/products/{}", created.body["id"].as_str().unwrap()), &admin).await.body
            ["mg_per_dose"],
        1.26
    );
    assert_eq!(app.post("/api/v1/products", &admin, new).await.code(), "name_taken");
    let bad = app
        .post("/api/v1/products", &admin, json!({"name": "", "route": "oral", "doses_per_kit": 0, "mg_per_dose": 0}))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.error_fields(), ["route"], "the shape is checked before the values");
    let bad = app
        .post(
            "/api/v1/products",
            &admin,
            json!({"name": "", "route": "intranasal", "doses_per_kit": 0, "mg_per_dose": 0}),
        )
        .await;
    assert_eq!(bad.error_fields(), ["doses_per_kit", "mg_per_dose", "name"]);
}

async fn only_admins_write_reference_data(app: TestApp) {
    let admin = app.admin().await;
    let (area, organisation) = app.hub(&admin, "Kilmarnock Recovery Hub").await;
    let (_, coordinator) =
        app.user(&admin, "coord@test.example", &["coordinator", "trainer", "peer"], &organisation).await;
    let writes = [
        (Method::POST, "/api/v1/areas".to_owned(), json!({"name": "X"})),
        (Method::PATCH, format!("/api/v1/areas/{area}"), json!({"name": "X"})),
        (Method::POST, "/api/v1/organisations".to_owned(), json!({"name": "X", "kind": "lero", "area_id": area})),
        (Method::PATCH, format!("/api/v1/organisations/{organisation}"), json!({"name": "X"})),
        (
            Method::POST,
            "/api/v1/products".to_owned(),
            json!({"name": "X", "route": "intranasal", "doses_per_kit": 2, "mg_per_dose": 1.0}),
        ),
    ];
    for (method, path, body) in writes {
        let reply = app.request(method.clone(), &path, Some(&coordinator), Some(&body)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{method} {path}");
        assert!(reply.is_problem());
    }
    for path in ["/api/v1/areas", "/api/v1/organisations", "/api/v1/products"] {
        assert_eq!(app.get(path, &coordinator).await.status, StatusCode::OK, "{path}");
    }
    assert_eq!(
        app.get(&format!("/api/v1/areas/{area}"), &coordinator).await.body["name"],
        "Kilmarnock Recovery Hub area"
    );
}

async fn reference_data_needs_a_signed_in_user(app: TestApp) {
    for path in ["/api/v1/areas", "/api/v1/organisations", "/api/v1/products", "/api/v1/me"] {
        let reply = app.request(Method::GET, path, None, None).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(reply.is_problem());
    }
    let _ = PASSWORD;
}

async fn lists_page_without_gaps_or_repeats(app: TestApp) {
    let admin = app.admin().await;
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(app.create("/api/v1/areas", &admin, json!({"name": format!("Area {i}")})).await);
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/areas?limit=3&cursor={c}"),
            None => "/api/v1/areas?limit=3".to_owned(),
        };
        let page = app.get(&path, &admin).await;
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        seen.extend(items.iter().map(|a| a["id"].as_str().unwrap().to_owned()));
        cursor = page.body["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, created, "every area once, in creation order");
}

async fn list_filters_and_limits_are_checked(app: TestApp) {
    let admin = app.admin().await;
    for path in [
        "/api/v1/areas?limit=0",
        "/api/v1/areas?limit=201",
        "/api/v1/areas?limit=ten",
        "/api/v1/areas?cursor=garbage",
        "/api/v1/areas?parent=1",
        "/api/v1/organisations?kind=castle",
        "/api/v1/organisations?area_id=not-a-uuid",
        "/api/v1/products?route=oral",
    ] {
        let reply = app.get(path, &admin).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(reply.is_problem(), "{path}");
    }
    assert_eq!(app.get("/api/v1/areas?limit=200", &admin).await.status, StatusCode::OK);
}
