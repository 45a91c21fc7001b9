//! The tables, shared by SQLite and PostgreSQL. Kept in step by hand with
//! `migrations/sqlite` and `migrations/postgres`.

diesel::table! {
    areas (id) {
        id -> Text,
        name -> Text,
        parent_id -> Nullable<Text>,
        population_at_risk -> Nullable<Integer>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        kind -> Text,
        area_id -> Text,
        tracks_stock -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        email -> Text,
        display_name -> Text,
        password_hash -> Text,
        organisation_id -> Nullable<Text>,
        area_id -> Nullable<Text>,
        active -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    user_roles (user_id, role) {
        user_id -> Text,
        role -> Text,
    }
}

diesel::table! {
    products (id) {
        id -> Text,
        name -> Text,
        route -> Text,
        doses_per_kit -> Integer,
        mg_per_dose -> Double,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        generation -> Integer,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> Text,
        generation -> Integer,
        created_at -> Timestamp,
        rotated_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_throttle (account, address) {
        account -> Text,
        address -> Text,
        failures -> Integer,
        window_started_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        forget_at -> Timestamp,
    }
}

diesel::table! {
    audit_entries (id) {
        id -> Text,
        occurred_at -> Timestamp,
        actor_id -> Nullable<Text>,
        action -> Text,
        entity_type -> Text,
        entity_id -> Text,
        before_json -> Nullable<Text>,
        after_json -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    trainings (id) {
        id -> Text,
        trainer_id -> Text,
        organisation_id -> Text,
        delivered_on -> Date,
        kind -> Text,
        setting -> Text,
        anonymous_attendees -> Integer,
        kits_handed_out -> Integer,
        recorded_by -> Text,
        request_fingerprint -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        voided_at -> Nullable<Timestamp>,
        void_reason -> Nullable<Text>,
        state -> Text,
        held_reasons -> Text,
        released_at -> Nullable<Timestamp>,
        release_reason -> Nullable<Text>,
    }
}

diesel::table! {
    training_attendees (training_id, user_id) {
        training_id -> Text,
        user_id -> Text,
    }
}

diesel::table! {
    certificates (id) {
        id -> Text,
        user_id -> Text,
        level -> Text,
        training_id -> Nullable<Text>,
        organisation_id -> Text,
        issued_by -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        revoked_by -> Nullable<Text>,
        revoke_reason -> Nullable<Text>,
        verification_code -> Text,
        issue_reason -> Nullable<Text>,
        evidence -> Nullable<Text>,
    }
}

diesel::table! {
    batches (id) {
        id -> Text,
        organisation_id -> Text,
        product_id -> Text,
        lot_number -> Text,
        expires_on -> Date,
        quantity -> Integer,
        unallocated -> Integer,
        recalled_at -> Nullable<Timestamp>,
        recall_reason -> Nullable<Text>,
        created_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    stock_allocations (batch_id, user_id) {
        batch_id -> Text,
        user_id -> Text,
        on_hand -> Integer,
    }
}

diesel::table! {
    stock_movements (id) {
        id -> Text,
        kind -> Text,
        batch_id -> Text,
        user_id -> Nullable<Text>,
        quantity -> Integer,
        reason -> Nullable<Text>,
        kit_issue_id -> Nullable<Text>,
        recorded_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    kit_issues (id) {
        id -> Text,
        distributor_id -> Text,
        organisation_id -> Text,
        issued_at -> Timestamp,
        area_id -> Text,
        postcode_district -> Nullable<Text>,
        setting -> Text,
        product_id -> Text,
        batch_id -> Nullable<Text>,
        quantity -> Integer,
        recipient_type -> Text,
        consent_recorded -> Nullable<Bool>,
        supply -> Nullable<Text>,
        repeat_reason -> Nullable<Text>,
        brief_training_given -> Nullable<Bool>,
        recipient_code_hash -> Nullable<Text>,
        age_band -> Nullable<Text>,
        gender -> Nullable<Text>,
        request_fingerprint -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        voided_at -> Nullable<Timestamp>,
        void_reason -> Nullable<Text>,
        state -> Text,
        held_reasons -> Text,
        released_at -> Nullable<Timestamp>,
        release_reason -> Nullable<Text>,
    }
}

diesel::table! {
    reversals (id) {
        id -> Text,
        reporter_id -> Text,
        organisation_id -> Text,
        occurred_at -> Timestamp,
        area_id -> Text,
        postcode_district -> Nullable<Text>,
        place -> Text,
        administered_by -> Text,
        product_id -> Text,
        doses -> Integer,
        emergency_services_called -> Text,
        ambulance_attended -> Text,
        rescue_breaths_or_cpr -> Text,
        outcome -> Text,
        age_band -> Nullable<Text>,
        gender -> Nullable<Text>,
        kit_issue_id -> Nullable<Text>,
        replacement_kit_issue_id -> Nullable<Text>,
        request_fingerprint -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        voided_at -> Nullable<Timestamp>,
        void_reason -> Nullable<Text>,
        state -> Text,
        held_reasons -> Text,
        released_at -> Nullable<Timestamp>,
        release_reason -> Nullable<Text>,
    }
}

diesel::table! {
    stat_cells (subject, rollup, bucket, area_id, organisation_id, product_id, key_1, key_2, key_3, key_4) {
        subject -> Text,
        rollup -> SmallInt,
        bucket -> Date,
        area_id -> Text,
        organisation_id -> Text,
        product_id -> Text,
        key_1 -> Text,
        key_2 -> Text,
        key_3 -> Text,
        key_4 -> Text,
        count_1 -> BigInt,
        count_2 -> BigInt,
        count_3 -> BigInt,
        count_4 -> BigInt,
        count_5 -> BigInt,
    }
}

diesel::joinable!(organisations -> areas (area_id));
diesel::joinable!(stock_allocations -> batches (batch_id));
diesel::joinable!(batches -> products (product_id));
diesel::joinable!(training_attendees -> trainings (training_id));
diesel::joinable!(certificates -> organisations (organisation_id));
diesel::joinable!(users -> organisations (organisation_id));
diesel::joinable!(user_roles -> users (user_id));
diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(sessions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    areas,
    organisations,
    users,
    user_roles,
    products,
    refresh_tokens,
    sessions,
    login_throttle,
    audit_entries,
    trainings,
    training_attendees,
    certificates,
    batches,
    stock_allocations,
    stock_movements,
    kit_issues,
    reversals,
    stat_cells,
);
