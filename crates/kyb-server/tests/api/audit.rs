use crate::db_test;
use crate::helpers::*;
use kyb_store::audit::ChainBreak;

async fn verify(app: &TestApp) -> Result<usize, ChainBreak> {
    let report = app.state.store.verify_audit().await.unwrap();
    report
        .into_iter()
        .find(|(p, _)| *p == app.platform)
        .unwrap()
        .1
}

db_test!(every_write_extends_a_verifiable_chain, |app| async move {
    let id = app.create_customer().await;
    assert_eq!(app.issue_link_as(&app.key, &id).await.status(), 200);
    // platform.created, api_key.created, business_customer.created, kyb_link.created, kyb_link.created
    assert_eq!(verify(&app).await, Ok(5));
    let (rows, head) = app.state.store.audit_chain(&app.platform).await.unwrap();
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
