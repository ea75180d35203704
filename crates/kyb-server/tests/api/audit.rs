use crate::db_test;
use crate::helpers::*;
use kyb_store::audit::{AuditChain, ChainBreak};

async fn verify(app: &TestApp) -> Result<usize, ChainBreak> {
    let report = app.state.store.verify_audit().await.unwrap();
    report
        .into_iter()
        .find(|(c, _)| *c == AuditChain::Platform(app.platform.clone()))
        .unwrap()
        .1
}

db_test!(every_write_extends_a_verifiable_chain, |app| async move {
    let id = app.create_customer().await;
    assert_eq!(app.issue_link_as(&app.key, &id).await.status(), 200);
    // platform.created, api_key.created, business_customer.created, kyb_link.created, kyb_link.created
    assert_eq!(verify(&app).await, Ok(5));
    let (rows, head) = app
        .state
        .store
        .audit_chain(&AuditChain::Platform(app.platform.clone()))
        .await
        .unwrap();
    assert_eq!(
        rows.iter().map(|r| r.platform_seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(head.unwrap().1, rows[4].hash);
    assert!(rows.windows(2).all(|w| w[1].prev_hash == w[0].hash));
});

db_test!(an_edited_row_is_named, |app| async move {
    app.create_customer().await;
    app.exec(&format!(
        "UPDATE audit_log SET actor_id = 'key_someoneelse' WHERE platform_id = '{}' AND platform_seq = 3",
        app.platform
    ))
    .await;
    assert!(matches!(
        verify(&app).await,
        Err(ChainBreak::Edited { seq: 3, .. })
    ));
});

db_test!(a_deleted_row_is_named, |app| async move {
    app.create_customer().await;
    app.create_customer().await;
    app.exec(&format!(
        "DELETE FROM audit_log WHERE platform_id = '{}' AND platform_seq = 4",
        app.platform
    ))
    .await;
    assert!(matches!(
        verify(&app).await,
        Err(ChainBreak::Missing {
            expected: 4,
            found: 5,
            ..
        })
    ));
});

db_test!(
    deleting_the_newest_rows_is_caught_by_the_head,
    |app| async move {
        app.create_customer().await;
        app.exec(&format!(
            "DELETE FROM audit_log WHERE platform_id = '{}' AND platform_seq >= 3",
            app.platform
        ))
        .await;
        assert_eq!(
            verify(&app).await,
            Err(ChainBreak::Truncated { last: 2, head: 4 })
        );
    }
);

db_test!(the_api_lists_the_platforms_own_rows, |app| async move {
    let id = app.create_customer().await;
    let r = app.get("/v2/audit_logs?limit=2").await;
    assert_eq!(r.status(), 200);
    let page: serde_json::Value = r.json().await.unwrap();
    let rows = page["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(page["has_more"], true);
    assert_eq!(rows[0]["action"], "kyb_link.created");
    assert_eq!(rows[1]["action"], "business_customer.created");
    assert_eq!(rows[1]["target"]["id"], id.as_str());
    assert_eq!(rows[1]["actor"]["type"], "api_key");
    assert_eq!(rows[0]["prev_hash"], rows[1]["hash"]);
    assert_eq!(rows[1]["sequence"], 3);
    let next: serde_json::Value = app
        .get(&format!(
            "/v2/audit_logs?starting_after={}",
            rows[1]["id"].as_str().unwrap()
        ))
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = next["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["api_key.created", "platform.created"]);
    // Another platform sees none of it; live keys see no test rows.
    let (_, other) = create_platform(
        &app.state.store,
        &app.clock,
        "Other",
        kyb_domain::Mode::Test,
    )
    .await;
    let theirs: serde_json::Value = app
        .get_as(&other, "/v2/audit_logs?limit=100")
        .await
        .json()
        .await
        .unwrap();
    assert!(theirs["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["target"]["id"] != id.as_str()));
    let live = create_key(
        &app.state.store,
        &app.clock,
        &app.platform,
        kyb_domain::Mode::Live,
    )
    .await;
    let live_rows: serde_json::Value = app
        .get_as(&live, "/v2/audit_logs?limit=100")
        .await
        .json()
        .await
        .unwrap();
    assert!(live_rows["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["livemode"] != false));
    let err = assert_error(
        app.get_as(
            &other,
            &format!(
                "/v2/audit_logs?starting_after={}",
                rows[0]["id"].as_str().unwrap()
            ),
        )
        .await,
        400,
        "parameter_invalid",
    )
    .await;
    assert_eq!(err["param"], "starting_after");
});

// The transparency log's sealing (issue 14, step 2 in progress): committed rows become leaves
// in chain order, each sealing signs a checkpoint, every row has an inclusion proof against it
// and every checkpoint extends the one before; a second sealer finds nothing to do.
db_test!(
    sealed_rows_are_provably_in_signed_checkpoints,
    |app| async move {
        let origin = format!("kyb.test/audit/{}", app.platform);
        let key = kyb_tlog::CheckpointKey::derive(b"the server secret", &origin).unwrap();
        let store = &app.state.store;
        let sign = |size, root| key.sign(size, root).map_err(|e| e.to_string());
        app.create_customer().await;
        let first = store
            .seal_audit(&app.platform, 1000, app.clock.now(), sign)
            .await
            .unwrap()
            .expect("rows to seal");
        // platform.created, api_key.created, business_customer.created, kyb_link.created
        assert_eq!(first.tree_size, 4);
        let opened = kyb_tlog::open_checkpoint(&first.note, key.verifier_key()).unwrap();
        assert_eq!((opened.size(), *opened.hash()), (4, first.root));
        assert!(store
            .seal_audit(&app.platform, 1000, app.clock.now(), sign)
            .await
            .unwrap()
            .is_none());

        app.create_customer().await;
        app.create_customer().await;
        // Sealed in steps of two: each step is a checkpoint.
        let mut last = first.clone();
        while let Some(c) = store
            .seal_audit(&app.platform, 2, app.clock.now(), sign)
            .await
            .unwrap()
        {
            assert!(c.tree_size <= last.tree_size + 2);
            last = c;
        }
        assert_eq!(last.tree_size, 8);
        assert_eq!(
            store
                .audit_checkpoint(&app.platform, None)
                .await
                .unwrap()
                .unwrap(),
            last
        );

        // Every row is in the newest tree, by a proof made of stored hashes alone.
        let (rows, _) = store
            .audit_chain(&kyb_store::audit::AuditChain::Platform(
                app.platform.clone(),
            ))
            .await
            .unwrap();
        for (n, row) in rows.iter().enumerate() {
            let n = n as u64;
            let indexes = kyb_tlog::needed(|r| kyb_tlog::prove_record(8, n, r));
            let hashes = store
                .audit_tree_hashes(&app.platform, &indexes)
                .await
                .unwrap();
            let proof = kyb_tlog::prove_record(8, n, &hashes).unwrap();
            let leaf = kyb_tlog::record_hash(&row.leaf_bytes());
            kyb_tlog::check_record(&proof, 8, last.root, n, leaf).unwrap();
        }
        // The newest tree extends the first.
        let indexes = kyb_tlog::needed(|r| kyb_tlog::prove_tree(8, 4, r));
        let hashes = store
            .audit_tree_hashes(&app.platform, &indexes)
            .await
            .unwrap();
        let proof = kyb_tlog::prove_tree(8, 4, &hashes).unwrap();
        kyb_tlog::check_tree(&proof, 8, last.root, 4, first.root).unwrap();
        assert_eq!(
            store
                .audit_checkpoint(&app.platform, Some(4))
                .await
                .unwrap()
                .unwrap(),
            first
        );
    }
);

// A platform fetches its log's signed checkpoint; it covers every row written before, verifies
// with the key it names, and a later one extends it.
db_test!(
    a_platform_holds_signed_checkpoints_of_its_log,
    |app| async move {
        app.create_customer().await;
        let get = || async {
            let v: serde_json::Value = app.get("/v2/audit/checkpoint").await.json().await.unwrap();
            v["data"].clone()
        };
        let first = get().await;
        assert_eq!(first["object"], "audit_checkpoint");
        assert_eq!(first["tree_size"], 4, "{first}");
        let origin = first["origin"].as_str().unwrap();
        assert!(
            origin.ends_with(&format!("/audit/{}", app.platform)),
            "{origin}"
        );
        let key = first["verifier_key"].as_str().unwrap();
        let opened = kyb_tlog::open_checkpoint(first["note"].as_str().unwrap(), key).unwrap();
        assert_eq!(opened.size(), 4);
        assert_eq!(
            opened.hash().to_string(),
            first["root_hash"].as_str().unwrap()
        );

        app.create_customer().await;
        let second = get().await;
        assert_eq!(second["tree_size"], 6);
        assert_eq!(
            second["verifier_key"], first["verifier_key"],
            "one key per log"
        );
        let newer = kyb_tlog::open_checkpoint(second["note"].as_str().unwrap(), key).unwrap();
        let indexes = kyb_tlog::needed(|r| kyb_tlog::prove_tree(6, 4, r));
        let hashes = app
            .state
            .store
            .audit_tree_hashes(&app.platform, &indexes)
            .await
            .unwrap();
        let proof = kyb_tlog::prove_tree(6, 4, &hashes).unwrap();
        kyb_tlog::check_tree(&proof, 6, *newer.hash(), 4, *opened.hash()).unwrap();
        // The sealer finds nothing more to do; the same checkpoint is served again.
        assert_eq!(
            kyb_server::transparency::AuditSealer::new(app.state.clone())
                .run_once()
                .await
                .unwrap(),
            1
        );
        assert_eq!(get().await, second);
    }
);

// What a platform checks itself: each of its rows is in a signed checkpoint, and each later
// checkpoint extends the earlier, with kyb's answers alone and the log's public key.
db_test!(a_platform_proves_rows_and_growth_itself, |app| async move {
    use base64::Engine;
    let b64 = |s: &serde_json::Value| {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s.as_str().unwrap())
            .unwrap();
        kyb_tlog::Hash(bytes.try_into().unwrap())
    };
    let json = |r: reqwest::Response| async move { r.json::<serde_json::Value>().await.unwrap() };
    app.create_customer().await;
    let first = json(app.get("/v2/audit/checkpoint").await).await["data"].clone();
    let key = first["verifier_key"].as_str().unwrap().to_owned();
    app.create_customer().await;

    let rows = json(app.get("/v2/audit_logs?limit=100").await).await["data"].clone();
    for row in rows.as_array().unwrap() {
        let id = row["id"].as_str().unwrap();
        let p = json(app.get(&format!("/v2/audit_logs/{id}/proof")).await).await["data"].clone();
        let checkpoint =
            kyb_tlog::open_checkpoint(p["checkpoint"].as_str().unwrap(), &key).unwrap();
        let proof: Vec<kyb_tlog::Hash> = p["proof"].as_array().unwrap().iter().map(b64).collect();
        kyb_tlog::check_record(
            &proof,
            checkpoint.size(),
            *checkpoint.hash(),
            p["leaf_index"].as_u64().unwrap(),
            b64(&p["leaf_hash"]),
        )
        .unwrap();
    }
    let c = json(
        app.get(&format!(
            "/v2/audit/consistency?from={}",
            first["tree_size"]
        ))
        .await,
    )
    .await["data"]
        .clone();
    let older = kyb_tlog::open_checkpoint(c["from_checkpoint"].as_str().unwrap(), &key).unwrap();
    let newer = kyb_tlog::open_checkpoint(c["to_checkpoint"].as_str().unwrap(), &key).unwrap();
    let proof: Vec<kyb_tlog::Hash> = c["proof"].as_array().unwrap().iter().map(b64).collect();
    kyb_tlog::check_tree(
        &proof,
        newer.size(),
        *newer.hash(),
        older.size(),
        *older.hash(),
    )
    .unwrap();
    assert_eq!((older.size(), newer.size()), (4, 6));

    // Sizes that are no checkpoint, a row the tree of that size does not hold, and a row of
    // the other mode are refused with what to send instead.
    let first_row = rows.as_array().unwrap().last().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let newest_row = rows.as_array().unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (path, param) in [
        (
            format!("/v2/audit_logs/{first_row}/proof?tree_size=5"),
            "tree_size",
        ),
        (
            format!("/v2/audit_logs/{newest_row}/proof?tree_size=4"),
            "tree_size",
        ),
        ("/v2/audit/consistency?from=5".to_owned(), "from"),
        ("/v2/audit/consistency?from=6&to=4".to_owned(), "from"),
        ("/v2/audit/consistency".to_owned(), "from"),
        ("/v2/audit/consistency?from=0".to_owned(), "from"),
    ] {
        let r = app.get(&path).await;
        assert_eq!(r.status(), 400, "{path}");
        let e = json(r).await;
        assert_eq!(e["error"]["param"], param, "{path}: {e}");
    }
    assert_error(
        app.get("/v2/audit_logs/aud_doesnotexist/proof").await,
        404,
        "resource_missing",
    )
    .await;
    // A live row is not a test key's to prove (nor to see), though the tree holds it.
    let live = create_key(
        &app.state.store,
        &app.clock,
        &app.platform,
        kyb_domain::Mode::Live,
    )
    .await;
    let r = app
        .create_as(
            &live,
            &new_idempotency_key(),
            &body_with_email(&unique_email()).to_string(),
        )
        .await;
    assert_eq!(r.status(), 200);
    let live_rows = json(app.get_as(&live, "/v2/audit_logs?limit=1").await).await["data"].clone();
    let live_row = live_rows[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(live_rows[0]["livemode"], true);
    assert_error(
        app.get(&format!("/v2/audit_logs/{live_row}/proof")).await,
        404,
        "resource_missing",
    )
    .await;
    let p = json(
        app.get_as(&live, &format!("/v2/audit_logs/{live_row}/proof"))
            .await,
    )
    .await;
    assert_eq!(p["data"]["audit_log_id"], live_row.as_str(), "{p}");
});
