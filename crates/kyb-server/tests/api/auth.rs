use crate::db_test;
use crate::helpers::*;
use kyb_domain::{KeyId, Mode};
use kyb_store::AuditContext;
use serde_json::Value;

db_test!(missing_and_unknown_keys_are_401, |app| async move {
    let r = app
        .client
        .post(app.url("/v2/business_customer"))
        .header("idempotency-key", new_idempotency_key())
        .json(&body_with_email(&unique_email()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        assert_error(r, 401, "api_key_missing").await["type"],
        "authentication_error"
    );
    let unknown = kyb_domain::ApiKeySecret::generate(Mode::Test);
    assert_error(
        app.create_as(unknown.expose_secret(), &new_idempotency_key(), "{}")
            .await,
        401,
        "api_key_invalid",
    )
    .await;
    assert_error(
        app.create_as("garbage", &new_idempotency_key(), "{}").await,
        401,
        "api_key_invalid",
    )
    .await;
    // Right prefix, wrong secret: found by its prefix, refused by the hash.
    let tampered = format!("{}XXXX", &app.key[..app.key.len() - 4]);
    assert_error(
        app.get_as(&tampered, "/v2/business_customer").await,
        401,
        "api_key_invalid",
    )
    .await;
    assert_eq!(app.customer_count().await, 0);
});

db_test!(keys_are_stored_only_as_hashes, |app| async move {
    let stored = app
        .dump("SELECT lookup_prefix || ' ' || secret_hash FROM api_keys")
        .await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&app.key), "the secret is not stored");
    assert!(app.key.starts_with(stored[0].split(' ').next().unwrap()));
    assert_eq!(
        stored[0].split(' ').nth(1).unwrap(),
        kyb_store::secrets::hash_secret(&app.key)
    );
});

db_test!(bearer_authorization_works_too, |app| async move {
    let r = app
        .client
        .get(app.url("/v2/business_customer"))
        .bearer_auth(&app.key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
});

db_test!(
    revoked_keys_are_403_and_other_keys_keep_working,
    |app| async move {
        let second = create_key(&app.state.store, &app.clock, &app.platform, Mode::Test).await;
        let keys = app
            .state
            .store
            .list_keys(Some(&app.platform))
            .await
            .unwrap();
        let first_id: KeyId = keys
            .iter()
            .find(|k| app.key.starts_with(&k.lookup_prefix))
            .unwrap()
            .id
            .clone();
        let revoked = app
            .state
            .store
            .revoke_key(&first_id, &AuditContext::operator_cli(app.clock.now()))
            .await
            .unwrap();
        assert!(revoked.revoked_at.is_some());
        let err = assert_error(
            app.create(&body_with_email(&unique_email())).await,
            403,
            "api_key_revoked",
        )
        .await;
        assert_eq!(err["type"], "permission_error");
        assert_eq!(
            app.get_as(&second, "/v2/business_customer").await.status(),
            200
        );
        let audit = app.state.store.list_audit(&app.platform).await.unwrap();
        assert!(audit
            .iter()
            .any(|a| a.action == "api_key.revoked" && a.target_id == first_id.as_str()));
    }
);

db_test!(test_and_live_data_never_mix, |app| async move {
    let live = create_key(&app.state.store, &app.clock, &app.platform, Mode::Live).await;
    let test_customer = app.create_customer().await;
    let r = app
        .create_as(
            &live,
            &new_idempotency_key(),
            &body_with_email(&unique_email()).to_string(),
        )
        .await;
    let live_customer = r.json::<Value>().await.unwrap()["customer_id"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_error(
        app.get_as(&live, &format!("/v2/business_customer/{test_customer}"))
            .await,
        404,
        "resource_missing",
    )
    .await;
    assert_error(
        app.get(&format!("/v2/business_customer/{live_customer}"))
            .await,
        404,
        "resource_missing",
    )
    .await;
    let live_list: Value = app
        .get_as(&live, "/v2/business_customer")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = live_list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customer_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [live_customer.as_str()]);
    assert_eq!(live_list["data"][0]["livemode"], true);
});

db_test!(
    another_platforms_customer_is_404_never_403,
    |app| async move {
        let (_, other_key) =
            create_platform(&app.state.store, &app.clock, "Other", Mode::Test).await;
        let id = app.create_customer().await;
        let err = assert_error(
            app.get_as(&other_key, &format!("/v2/business_customer/{id}"))
                .await,
            404,
            "resource_missing",
        )
        .await;
        assert!(
            !err.to_string().contains("Acme Corp"),
            "no data of the other platform leaks"
        );
        assert_error(
            app.issue_link_as(&other_key, &id).await,
            404,
            "resource_missing",
        )
        .await;
        let list: Value = app
            .get_as(&other_key, "/v2/business_customer")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(list["data"].as_array().unwrap().len(), 0);
        // Nothing changed for the owner: still exactly the first link.
        let audit = app.state.store.list_audit(&app.platform).await.unwrap();
        assert_eq!(
            audit
                .iter()
                .filter(|a| a.action == "kyb_link.created")
                .count(),
            1
        );
    }
);

db_test!(an_inactive_platforms_keys_get_403, |app| async move {
    let ctx = AuditContext::operator_cli(app.clock.now());
    app.state
        .store
        .set_platform_active(&app.platform, false, &ctx)
        .await
        .unwrap();
    let err = assert_error(
        app.get("/v2/business_customer").await,
        403,
        "platform_inactive",
    )
    .await;
    assert_eq!(err["type"], "permission_error");
    assert_error(
        app.create(&body_with_email(&unique_email())).await,
        403,
        "platform_inactive",
    )
    .await;
    assert_eq!(app.customer_count().await, 0);
    app.state
        .store
        .set_platform_active(&app.platform, true, &ctx)
        .await
        .unwrap();
    assert_eq!(app.get("/v2/business_customer").await.status(), 200);
    let actions: Vec<String> = app
        .state
        .store
        .list_audit(&app.platform)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert!(actions.ends_with(&[
        "platform.deactivated".to_owned(),
        "platform.activated".to_owned()
    ]));
});
