//! `/v2/platform/branding`: the platform sets its own brand (live keys only), idempotently, each
//! change an audit row; the hosted pages show it.

use crate::db_test;
use crate::helpers::*;
use kyb_domain::Mode;
use serde_json::{json, Value};

const PNG: &[u8] = include_bytes!("../../../../testdata/brand/logo.png");
const SVG: &[u8] = include_bytes!("../../../../testdata/brand/logo.svg");

async fn post_as(app: &TestApp, key: &str, idem: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/v2/platform/branding"))
        .header("ngnc-sec-key", key)
        .header("idempotency-key", idem)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn logo_as(app: &TestApp, key: &str, idem: &str, bytes: &[u8]) -> reqwest::Response {
    app.client
        .post(app.url("/v2/platform/branding/logo"))
        .header("ngnc-sec-key", key)
        .header("idempotency-key", idem)
        .header("content-type", "image/png")
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
}

db_test!(a_platform_sets_its_own_brand, |app| async move {
    let live = create_key(&app.state.store, &app.clock, &app.platform, Mode::Live).await;
    // Nothing set: every value null.
    let v: Value = app.get("/v2/platform/branding").await.json().await.unwrap();
    assert_eq!(v["data"]["object"], "platform_branding");
    assert_eq!(v["data"]["display_name"], Value::Null);
    assert_eq!(v["data"]["logo_url"], Value::Null);

    // A test key may read, not change what live customers see.
    assert_error(
        app.post_json(
            "/v2/platform/branding",
            &json!({ "display_name": "Acme Pay" }),
        )
        .await,
        403,
        "livemode_required",
    )
    .await;

    let idem = new_idempotency_key();
    let body = json!({
        "display_name": "Acme Pay",
        "accent_color": "#1F3A5F",
        "support_url": "https://acme.example/help",
        "language": "fr",
    });
    let r = post_as(&app, &live, &idem, &body).await;
    assert_eq!(r.status(), 200);
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["data"]["accent_color"], "#1f3a5f");
    assert_eq!(first["data"]["language"], "fr");
    // The same key and body: the same answer, replayed, and one audit row.
    let r = post_as(&app, &live, &idem, &body).await;
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    assert_eq!(r.json::<Value>().await.unwrap(), first);

    // Refused values name the field and change nothing.
    for (body, param) in [
        (json!({ "accent_color": "#f0b400" }), "accent_color"),
        (json!({ "return_url": "http://acme.example" }), "return_url"),
        (json!({ "language": "de" }), "language"),
    ] {
        let r = post_as(&app, &live, &new_idempotency_key(), &body).await;
        assert_eq!(r.status(), 400, "{body}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["param"], param, "{e}");
        assert!(
            e["error"]["message"].as_str().unwrap().starts_with(param),
            "{e}"
        );
    }
    assert_error(
        post_as(
            &app,
            &live,
            &new_idempotency_key(),
            &json!({ "colour": "red" }),
        )
        .await,
        400,
        "parameter_unknown",
    )
    .await;
    let v: Value = app.get("/v2/platform/branding").await.json().await.unwrap();
    assert_eq!(v["data"], first["data"], "nothing changed");

    // The logo: a PNG by its content; an SVG is refused whatever its header says.
    let r = logo_as(&app, &live, &new_idempotency_key(), SVG).await;
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["param"], "logo", "{e}");
    assert_error(
        logo_as(&app, &app.key, &new_idempotency_key(), PNG).await,
        403,
        "livemode_required",
    )
    .await;
    let r = logo_as(&app, &live, &new_idempotency_key(), PNG).await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    let logo_url = v["data"]["logo_url"].as_str().unwrap().to_owned();
    assert!(
        logo_url.contains(&format!("/kyb/brand/{}/logo?v=", app.platform)),
        "{v}"
    );
    let path = &logo_url[logo_url.find("/kyb/").unwrap()..];
    let served = app.client.get(app.url(path)).send().await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);
    // Too large for a logo: refused before it is read whole.
    let big = vec![0u8; kyb_domain::branding::MAX_LOGO_BYTES + 2];
    let r = logo_as(&app, &live, &new_idempotency_key(), &big).await;
    assert_eq!(r.status(), 413);

    // The hosted pages show it, in the platform's default language.
    let r = app.create(&body_with_email(&unique_email())).await;
    let link: Value = r.json().await.unwrap();
    let start = app
        .client
        .get(
            link["kyb_link"]
                .as_str()
                .unwrap()
                .replace("https://kyb.test", &app.address),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(start.contains("<html lang=\"fr\">"), "{start}");
    assert!(
        start.contains("Vérifiez votre entreprise pour Acme Pay"),
        "{start}"
    );
    assert!(start.contains(&format!("src=\"{path}\"")), "{start}");

    // Removed: the pages show the name alone. Not with a test key.
    assert_error(
        app.delete("/v2/platform/branding/logo").await,
        403,
        "livemode_required",
    )
    .await;
    let r = app
        .client
        .delete(app.url("/v2/platform/branding/logo"))
        .header("ngnc-sec-key", &live)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["data"]["logo_url"],
        Value::Null
    );

    // Every change is an audit row of the platform's chain, naming the key.
    let rows = app.state.store.list_audit(&app.platform).await.unwrap();
    let actions: Vec<&str> = rows
        .iter()
        .filter(|a| a.action.starts_with("platform."))
        .map(|a| a.action.as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "platform.created",
            "platform.branding_changed",
            "platform.logo_changed",
            "platform.logo_changed"
        ]
    );
});
