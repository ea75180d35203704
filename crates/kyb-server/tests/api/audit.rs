use crate::db_test;
use crate::helpers::*;
use kyb_store::audit::{AuditChain, ChainBreak, LogBreak, LogReport};
use kyb_store::{Sealing, StoredCheckpoint};

fn chain_of(app: &TestApp) -> AuditChain {
    AuditChain::Platform(app.platform.clone())
}

/// What `kyb audit verify` says of the platform's log.
async fn verify(app: &TestApp) -> Result<LogReport, LogBreak> {
    let logs = &app.state.audit_logs;
    app.state
        .store
        .verify_audit_log(&chain_of(app), &|origin, note| logs.open(origin, note))
        .await
        .unwrap()
}

/// Seals the platform's committed rows as the service's sealer does; the newest checkpoint.
async fn seal(app: &TestApp) -> Option<StoredCheckpoint> {
    app.state
        .audit_logs
        .seal(&app.state.store, &app.clock, &chain_of(app))
        .await
        .unwrap()
}

/// One sealing pass as another process's sealer `holder` would run it (and, not giving the
/// lease up, as one that died after it).
async fn seal_as(app: &TestApp, holder: &str, max: i64) -> Sealing {
    let origin = app.state.audit_logs.new_origin(&chain_of(app));
    let logs = &app.state.audit_logs;
    let sign = |origin: &str, size, root| {
        logs.key(origin)
            .unwrap()
            .sign(size, root)
            .map_err(|e| e.to_string())
    };
    app.state
        .store
        .seal_audit(
            &chain_of(app),
            &origin,
            holder,
            chrono::Duration::seconds(30),
            max,
            app.clock.now(),
            sign,
        )
        .await
        .unwrap()
}

fn ok(rows: i64, checkpoints: i64, pending: i64) -> Result<LogReport, LogBreak> {
    Ok(LogReport {
        rows,
        chained: 0,
        checkpoints,
        pending,
    })
}

db_test!(every_write_becomes_a_leaf_after_commit, |app| async move {
    let id = app.create_customer().await;
    assert_eq!(app.issue_link_as(&app.key, &id).await.status(), 200);
    // platform.created, api_key.created, business_customer.created, kyb_link.created,
    // kyb_link.created: committed without a place in the log, which the sealer gives them.
    assert_eq!(verify(&app).await, ok(0, 0, 5));
    let (rows, _) = app.state.store.audit_chain(&chain_of(&app)).await.unwrap();
    assert!(rows.iter().all(|r| r.platform_seq.is_none()));

    let checkpoint = seal(&app).await.expect("a checkpoint");
    assert_eq!(checkpoint.tree_size, 5);
    assert_eq!(verify(&app).await, ok(5, 1, 0));
    let (rows, head) = app.state.store.audit_chain(&chain_of(&app)).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.platform_seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5].map(Some)
    );
    assert_eq!(
        rows.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
        [
            "platform.created",
            "api_key.created",
            "business_customer.created",
            "kyb_link.created",
            "kyb_link.created"
        ],
        "in the order they were written"
    );
    assert!(rows
        .iter()
        .all(|r| r.prev_hash.is_none() && r.hash.is_none()));
    assert_eq!(head, None, "no hash chain for new rows");
    // Sealing again finds nothing: the same checkpoint, no new one.
    assert_eq!(seal(&app).await, Some(checkpoint));
    assert_eq!(verify(&app).await, ok(5, 1, 0));
});

db_test!(an_edited_row_is_named, |app| async move {
    app.create_customer().await;
    seal(&app).await;
    app.exec(&format!(
        "UPDATE audit_log SET actor_id = 'key_someoneelse' WHERE platform_id = '{}' AND platform_seq = 3",
        app.platform
    ))
    .await;
    assert!(
        matches!(verify(&app).await, Err(LogBreak::Leaf { seq: 3, .. })),
        "{:?}",
        verify(&app).await
    );
});

db_test!(a_deleted_row_is_named, |app| async move {
    app.create_customer().await;
    app.create_customer().await;
    seal(&app).await;
    app.exec(&format!(
        "DELETE FROM audit_log WHERE platform_id = '{}' AND platform_seq = 4",
        app.platform
    ))
    .await;
    assert!(matches!(
        verify(&app).await,
        Err(LogBreak::Missing {
            expected: 4,
            found: 5,
            ..
        })
    ));
});

db_test!(
    deleting_the_newest_rows_is_caught_by_the_tree,
    |app| async move {
        app.create_customer().await;
        seal(&app).await;
        app.exec(&format!(
            "DELETE FROM audit_log WHERE platform_id = '{}' AND platform_seq >= 3",
            app.platform
        ))
        .await;
        assert_eq!(
            verify(&app).await,
            Err(LogBreak::Shortened { rows: 2, size: 4 })
        );
    }
);

db_test!(reordered_rows_are_named, |app| async move {
    app.create_customer().await;
    seal(&app).await;
    let p = &app.platform;
    for sql in [
        format!(
            "UPDATE audit_log SET platform_seq = -2 WHERE platform_id = '{p}' AND platform_seq = 2"
        ),
        format!(
            "UPDATE audit_log SET platform_seq = 2 WHERE platform_id = '{p}' AND platform_seq = 3"
        ),
        format!(
            "UPDATE audit_log SET platform_seq = 3 WHERE platform_id = '{p}' AND platform_seq = -2"
        ),
    ] {
        app.exec(&sql).await;
    }
    assert!(matches!(
        verify(&app).await,
        Err(LogBreak::Leaf { seq: 2, .. })
    ));
});

// The tree and the checkpoints are checked too, not only the rows: a stored hash of the tree
// changed, the newest checkpoint deleted, a checkpoint added past the log, a row numbered by
// hand past the tree.
db_test!(a_changed_tree_or_checkpoint_is_named, |app| async move {
    let p = app.platform.to_string();
    app.create_customer().await;
    seal(&app).await;
    app.create_customer().await;
    seal(&app).await;
    assert_eq!(verify(&app).await, ok(6, 2, 0));

    // Hash 2 is the node over leaves 0 and 1 (hash 0 is leaf 0's).
    let set_hash = |from: u64, to: u64| {
        format!(
            "UPDATE audit_tree_hashes SET hash = (SELECT hash FROM audit_tree_hashes \
             WHERE platform_id = '{p}' AND idx = {from}) WHERE platform_id = '{p}' AND idx = {to}"
        )
    };
    app.exec("CREATE TABLE kept_hash AS SELECT * FROM audit_tree_hashes WHERE idx = 2")
        .await;
    app.exec(&set_hash(0, 2)).await;
    assert_eq!(verify(&app).await, Err(LogBreak::StoredHash { index: 2 }));
    app.exec(&format!(
        "UPDATE audit_tree_hashes SET hash = (SELECT hash FROM kept_hash) \
         WHERE platform_id = '{p}' AND idx = 2"
    ))
    .await;
    assert_eq!(verify(&app).await, ok(6, 2, 0));

    app.exec(&format!(
        "INSERT INTO audit_checkpoints (platform_id, tree_size, root, note, created_at) \
         SELECT platform_id, 10, root, note, created_at FROM audit_checkpoints \
         WHERE platform_id = '{p}' AND tree_size = 6"
    ))
    .await;
    assert_eq!(
        verify(&app).await,
        Err(LogBreak::PastTheLog { size: 10, rows: 6 })
    );
    app.exec(&format!(
        "DELETE FROM audit_checkpoints WHERE platform_id = '{p}' AND tree_size >= 6"
    ))
    .await;
    assert_eq!(
        verify(&app).await,
        Err(LogBreak::Unsigned { size: 6, signed: 4 })
    );
});

db_test!(a_row_numbered_past_the_tree_is_named, |app| async move {
    app.create_customer().await;
    seal(&app).await;
    app.create_customer().await;
    app.exec(&format!(
        "UPDATE audit_log SET platform_seq = 5 WHERE platform_id = '{}' AND action = 'kyb_link.created' \
         AND platform_seq IS NULL",
        app.platform
    ))
    .await;
    assert!(matches!(
        verify(&app).await,
        Err(LogBreak::PastTheTree {
            seq: 5,
            size: 4,
            ..
        })
    ));
});

// Someone with the database but not the server secret rewrites a row, throws the tree and its
// checkpoints away and builds them again, signing with a key of their own: every hash matches,
// the signatures do not, and the checkpoint a platform kept from before is not extended by the
// new one.
db_test!(
    a_history_rewritten_and_resigned_is_caught,
    |app| async move {
        app.create_customer().await;
        let kept: serde_json::Value = app.get("/v2/audit/checkpoint").await.json().await.unwrap();
        let kept = kept["data"].clone();
        let forged = rewrite_and_resign(&app).await;
        assert!(matches!(forged, Sealing::Sealed(ref c) if c.tree_size == 4));
        assert!(
            matches!(verify(&app).await, Err(LogBreak::Signature { size: 4, .. })),
            "{:?}",
            verify(&app).await
        );
        // The platform's own evidence: the checkpoint kyb serves now does not open with the key
        // the platform kept, and its root for the same size differs from the one it kept.
        let now: serde_json::Value = app.get("/v2/audit/checkpoint").await.json().await.unwrap();
        let now = now["data"].clone();
        assert_eq!(now["tree_size"], kept["tree_size"]);
        assert_ne!(now["root_hash"], kept["root_hash"]);
        assert!(kyb_tlog::open_checkpoint(
            now["note"].as_str().unwrap(),
            kept["verifier_key"].as_str().unwrap()
        )
        .is_err());
    }
);

/// What someone with the database but not the server secret can do: edit row 3, then number
/// the rows again, rebuild the tree and sign its checkpoint with a key of their own.
async fn rewrite_and_resign(app: &TestApp) -> Sealing {
    let p = &app.platform;
    for sql in [
        format!("UPDATE audit_log SET actor_id = 'key_someoneelse' WHERE platform_id = '{p}' AND platform_seq = 3"),
        format!("UPDATE audit_log SET platform_seq = NULL WHERE platform_id = '{p}'"),
        format!("DELETE FROM audit_tree_hashes WHERE platform_id = '{p}'"),
        format!("DELETE FROM audit_checkpoints WHERE platform_id = '{p}'"),
        format!("UPDATE audit_trees SET size = 0, lease_holder = NULL WHERE platform_id = '{p}'"),
    ] {
        app.exec(&sql).await;
    }
    let origin = app.state.audit_logs.new_origin(&chain_of(app));
    let forger = kyb_tlog::CheckpointKey::derive(b"not the server secret", &origin).unwrap();
    let sign = |_: &str, size, root| forger.sign(size, root).map_err(|e| e.to_string());
    app.state
        .store
        .seal_audit(
            &chain_of(app),
            &origin,
            "forger",
            chrono::Duration::seconds(30),
            1000,
            app.clock.now(),
            sign,
        )
        .await
        .unwrap()
}

// A database from before the tree: rows numbered and hash-chained by the request, a head. The
// sealer checks that chain once, then its rows become the first leaves in chain order, and the
// rows written since follow; a broken old chain is never sealed.
db_test!(
    the_old_hash_chain_becomes_the_first_leaves,
    |app| async move {
        app.create_customer().await;
        make_old_chain(&app).await;
        app.create_customer().await;
        let checkpoint = seal(&app).await.expect("sealed");
        assert_eq!(checkpoint.tree_size, 6);
        assert_eq!(
            verify(&app).await,
            Ok(LogReport {
                rows: 6,
                chained: 4,
                checkpoints: 1,
                pending: 0
            })
        );
        let (rows, _) = app.state.store.audit_chain(&chain_of(&app)).await.unwrap();
        assert_eq!(rows[3].action, "kyb_link.created");
        assert!(rows[3].hash.is_some() && rows[4].hash.is_none());
        // Editing an old row now breaks both its chain link and its leaf; the chain is named.
        app.exec(&format!(
        "UPDATE audit_log SET action = 'nothing.happened' WHERE platform_id = '{}' AND platform_seq = 2",
        app.platform
    ))
    .await;
        assert!(matches!(
            verify(&app).await,
            Err(LogBreak::Chain(ChainBreak::Edited { seq: 2, .. }))
        ));
    }
);

db_test!(a_broken_old_chain_is_not_sealed, |app| async move {
    app.create_customer().await;
    make_old_chain(&app).await;
    app.exec(&format!(
        "UPDATE audit_log SET action = 'nothing.happened' WHERE platform_id = '{}' AND platform_seq = 2",
        app.platform
    ))
    .await;
    let refused = app
        .state
        .audit_logs
        .seal(&app.state.store, &app.clock, &chain_of(&app))
        .await;
    assert!(
        matches!(refused, Err(kyb_store::StoreError::Corrupt(ref why)) if why.contains("old hash chain")),
        "{refused:?}"
    );
    assert!(app
        .state
        .store
        .audit_checkpoint(&chain_of(&app), None)
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        verify(&app).await,
        Err(LogBreak::Chain(ChainBreak::Edited { seq: 2, .. }))
    ));
});

/// Turns the platform's committed rows into an old hash chain, as requests wrote them before
/// the tree: numbered in order, each row linking the one before, the head at the last.
async fn make_old_chain(app: &TestApp) {
    let (rows, _) = app.state.store.audit_chain(&chain_of(app)).await.unwrap();
    let mut prev = kyb_store::audit::GENESIS.to_owned();
    for (i, row) in rows.into_iter().enumerate() {
        let mut row = row;
        row.platform_seq = Some(i as i64 + 1);
        row.prev_hash = Some(prev.clone());
        let hash = row.compute_hash();
        app.exec(&format!(
            "UPDATE audit_log SET platform_seq = {}, prev_hash = '{prev}', hash = '{hash}' WHERE id = '{}'",
            i + 1,
            row.id
        ))
        .await;
        prev = hash;
    }
    let count: i64 = app
        .dump(&format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log WHERE platform_id = '{}'",
            app.platform
        ))
        .await[0]
        .parse()
        .unwrap();
    app.exec(&format!(
        "INSERT INTO audit_heads (platform_id, seq, hash) VALUES ('{}', {count}, '{prev}')",
        app.platform
    ))
    .await;
}

// Requests write their rows side by side while sealing runs: no row is lost or numbered twice,
// and every write is in the log once sealed.
db_test!(
    concurrent_writes_and_sealing_lose_nothing,
    |app| async move {
        let writes = (0..16).map(|_| app.create_customer());
        let sealing = async {
            for _ in 0..8 {
                seal(&app).await;
                tokio::task::yield_now().await;
            }
        };
        tokio::join!(futures::future::join_all(writes), sealing);
        seal(&app).await;
        // platform.created and api_key.created, then two rows per create.
        assert_eq!(verify(&app).await.map(|r| (r.rows, r.pending)), Ok((34, 0)));
    }
);

// A sealer that died holding a log's lease holds it until the lease ends; writes never wait for
// it, and then another sealer takes over from the rows it left.
db_test!(a_dead_sealers_log_is_taken_over, |app| async move {
    app.create_customer().await;
    assert!(
        matches!(seal_as(&app, "crashed", 3).await, Sealing::Sealed(ref c) if c.tree_size == 3)
    );
    app.create_customer().await;
    assert_eq!(seal_as(&app, "another", 1000).await, Sealing::Held);
    // The service's sealing waits briefly, then answers with what is signed.
    assert_eq!(seal(&app).await.map(|c| c.tree_size), Some(3));
    assert_eq!(verify(&app).await, ok(3, 1, 3));
    app.clock.advance(chrono::Duration::seconds(31));
    assert_eq!(seal(&app).await.map(|c| c.tree_size), Some(6));
    assert_eq!(verify(&app).await, ok(6, 2, 0));
});

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
    // Not sealed yet: no place in the log, but the leaf hash it will have.
    assert_eq!(rows[1]["sequence"], serde_json::Value::Null);
    assert!(rows[1]["leaf_hash"].as_str().is_some_and(|h| h.len() == 44));
    assert_eq!(rows[1]["prev_hash"], serde_json::Value::Null);
    app.get("/v2/audit/checkpoint").await;
    let sealed: serde_json::Value = app
        .get("/v2/audit_logs?limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(sealed["data"][1]["sequence"], 3);
    assert_eq!(sealed["data"][1]["leaf_hash"], rows[1]["leaf_hash"]);
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
    let live = app.live_key().await;
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

// The transparency log's sealing: committed rows become leaves in the order they were
// written, each sealing signs a checkpoint, every row has an inclusion proof against it
// and every checkpoint extends the one before; a second sealer finds nothing to do.
db_test!(
    sealed_rows_are_provably_in_signed_checkpoints,
    |app| async move {
        let origin = app.state.audit_logs.new_origin(&chain_of(&app));
        let key = app.state.audit_logs.key(&origin).unwrap();
        let store = &app.state.store;
        app.create_customer().await;
        let Sealing::Sealed(first) = seal_as(&app, "sealer", 1000).await else {
            panic!("rows to seal")
        };
        // platform.created, api_key.created, business_customer.created, kyb_link.created
        assert_eq!(first.tree_size, 4);
        let opened = kyb_tlog::open_checkpoint(&first.note, key.verifier_key()).unwrap();
        assert_eq!((opened.size(), *opened.hash()), (4, first.root));
        assert_eq!(seal_as(&app, "sealer", 1000).await, Sealing::Nothing);

        app.create_customer().await;
        app.create_customer().await;
        // Sealed in steps of two: each step is a checkpoint.
        let mut last = first.clone();
        while let Sealing::Sealed(c) = seal_as(&app, "sealer", 2).await {
            assert!(c.tree_size <= last.tree_size + 2);
            last = c;
        }
        assert_eq!(last.tree_size, 8);
        assert_eq!(
            store
                .audit_checkpoint(&chain_of(&app), None)
                .await
                .unwrap()
                .unwrap(),
            last
        );

        // Every row is in the newest tree, by a proof made of stored hashes alone.
        let (rows, _) = store.audit_chain(&chain_of(&app)).await.unwrap();
        for (n, row) in rows.iter().enumerate() {
            let n = n as u64;
            let indexes = kyb_tlog::needed(|r| kyb_tlog::prove_record(8, n, r));
            let hashes = store
                .audit_tree_hashes(&chain_of(&app), &indexes)
                .await
                .unwrap();
            let proof = kyb_tlog::prove_record(8, n, &hashes).unwrap();
            let leaf = kyb_tlog::record_hash(&row.leaf_bytes());
            kyb_tlog::check_record(&proof, 8, last.root, n, leaf).unwrap();
        }
        // The newest tree extends the first.
        let indexes = kyb_tlog::needed(|r| kyb_tlog::prove_tree(8, 4, r));
        let hashes = store
            .audit_tree_hashes(&chain_of(&app), &indexes)
            .await
            .unwrap();
        let proof = kyb_tlog::prove_tree(8, 4, &hashes).unwrap();
        kyb_tlog::check_tree(&proof, 8, last.root, 4, first.root).unwrap();
        assert_eq!(
            store
                .audit_checkpoint(&chain_of(&app), Some(4))
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
            .audit_tree_hashes(&chain_of(&app), &indexes)
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
    let live = app.live_key().await;
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

/// Runs `tools/verify_audit.py` (the independent verifier, written from the RFCs) against the
/// app with its key: exit code and output. `None` when Python 3 with `cryptography` is not
/// here, which CI does not accept.
async fn python_verifier(app: &TestApp, args: &[&str]) -> Option<(i32, String)> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tools/verify_audit.py");
    let mut command = std::process::Command::new("python3");
    command
        .arg(script)
        .args(["--url", &app.address, "--key", &app.key])
        .args(args);
    let ready = std::process::Command::new("python3")
        .args(["-c", "import cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ready {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true needs python3 with the cryptography package for the independent verifier"
        );
        eprintln!("skipped: python3 with cryptography is not installed");
        return None;
    }
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.code().unwrap_or(-1), text))
}

// A platform checks kyb's log with a verifier we did not build into kyb: every row it can see
// is in the signed tree, the tree extends the checkpoint it kept (from a webhook or its last
// run), and a rewrite, even re-signed, fails.
db_test!(an_independent_verifier_checks_the_log, |app| async move {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state = state.to_str().unwrap();
    app.create_customer().await;
    let Some((code, out)) = python_verifier(&app, &["--state", state]).await else {
        return;
    };
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("rows verified: 4 "), "{out}");
    // A checkpoint kept from a webhook event, then more rows.
    let kept: serde_json::Value = app.get("/v2/audit/checkpoint").await.json().await.unwrap();
    let kept_file = dir.path().join("event.json");
    std::fs::write(
        &kept_file,
        serde_json::json!({"type": "business_customer.created", "audit_checkpoint": {"note": kept["data"]["note"]}}).to_string(),
    )
    .unwrap();
    app.create_customer().await;
    let (code, out) = python_verifier(
        &app,
        &[
            "--state",
            state,
            "--checkpoint",
            kept_file.to_str().unwrap(),
        ],
    )
    .await
    .unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("rows verified: 6 ") && out.contains("extends 4"),
        "{out}"
    );

    // One row edited behind kyb's back.
    app.exec(&format!(
        "UPDATE audit_log SET actor_id = 'key_someoneelse' WHERE platform_id = '{}' AND platform_seq = 3",
        app.platform
    ))
    .await;
    let (code, out) = python_verifier(&app, &["--state", state]).await.unwrap();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("sequence 3"), "{out}");
    // The whole history rewritten and signed again, by a key that is not kyb's.
    rewrite_and_resign(&app).await;
    let (code, out) = python_verifier(&app, &["--state", state]).await.unwrap();
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("signature"), "{out}");
});
