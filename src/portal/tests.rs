//! The portal driven as a UEM and a device would: API requests, then the device's messages.

use super::*;
use serde_json::json;

fn portal() -> Portal {
    Portal::new(PortalConfig::default(), 1, Arc::new(|_: &str| true))
}

fn call(p: &Portal, method: &str, path: &str, body: serde_json::Value) -> ApiResponse {
    let token = p.token();
    p.handle(
        &ApiRequest {
            method: method.into(),
            path: format!("{PREFIX}{path}"),
            authorization: Some(format!("Bearer {token}")),
            content_type: Some("application/json".into()),
            body: serde_json::to_vec(&body).unwrap(),
        },
        0,
    )
}

#[test]
fn requests_without_a_valid_token_are_refused_401() {
    let p = portal();
    let r = p.handle(
        &ApiRequest {
            method: "POST".into(),
            path: format!("{PREFIX}/devices/getDevices"),
            authorization: Some("Bearer nope".into()),
            content_type: Some("application/json".into()),
            body: b"{}".to_vec(),
        },
        0,
    );
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error"]["key"], "UNAUTHORIZED");
}

#[test]
fn an_empty_device_list_is_minus_4() {
    let p = portal();
    let r = call(&p, "POST", "/devices/bulkUpload", json!({ "devices": [] }));
    assert_eq!(
        (r.status, r.body["error"]["code"].clone()),
        (400, json!(-4))
    );
}

#[test]
fn bad_json_and_missing_fields_get_the_error_shape() {
    let p = portal();
    let token = p.token();
    let r = p.handle(
        &ApiRequest {
            method: "POST".into(),
            path: format!("{PREFIX}/operations"),
            authorization: Some(format!("Bearer {token}")),
            content_type: Some("application/json".into()),
            body: b"{\"type\":".to_vec(),
        },
        0,
    );
    assert_eq!(
        (r.status, r.body["error"]["key"].clone()),
        (400, json!("INVALID_JSON"))
    );
    let r = call(&p, "POST", "/operations", json!({ "devices": [] }));
    assert_eq!(
        (r.status, r.body["error"]["key"].clone()),
        (400, json!("INVALID_REQUEST"))
    );
}

#[test]
fn a_campaign_for_an_unknown_model_is_minus_1() {
    let p = portal();
    call(
        &p,
        "POST",
        "/devices/bulkUpload",
        json!({ "devices": [{ "imei": "356938035643809" }] }),
    );
    let r = call(
        &p,
        "POST",
        "/campaigns",
        json!({ "name": "c", "model": "SM-X000", "devices": ["356938035643809"], "firmwarePolicy": { "type": "latest" } }),
    );
    assert_eq!(r.body["error"]["code"], json!(-1), "{}", r.body);
}

#[test]
fn a_read_only_client_may_not_write() {
    let p = portal();
    let r = p.handle(
        &ApiRequest {
            method: "POST".into(),
            path: format!("{PREFIX}/oauth/token"),
            authorization: None,
            content_type: Some("application/json".into()),
            body: br#"{"clientId":"dmsim-viewer","clientSecret":"viewer-secret"}"#.to_vec(),
        },
        0,
    );
    let token = r.body["access_token"].as_str().unwrap().to_string();
    let r = p.handle(
        &ApiRequest {
            method: "POST".into(),
            path: format!("{PREFIX}/devices/bulkUpload"),
            authorization: Some(format!("Bearer {token}")),
            content_type: Some("application/json".into()),
            body: br#"{"devices":[{"imei":"356938035643809"}]}"#.to_vec(),
        },
        0,
    );
    assert_eq!(r.status, 403);
}
