//! The portal's endpoints, under [`super::PREFIX`] (`/api/efota`), JSON in and out:
//!
//! | endpoint | what it does |
//! | --- | --- |
//! | `POST /oauth/token` | a bearer token for a client's id and secret ([`super::auth`]) |
//! | `POST /devices/bulkUpload` | add devices by IMEI or serial number (at most [`Limits::bulk_upload`](super::catalogue::Limits::bulk_upload)); answered 202 with what was accepted and rejected |
//! | `POST /devices/getDevices` | the devices with their operation, client and update status, `agentError` and current operation; filters `agentErrorCodes`, `imeis`; pages `page`, `size` |
//! | `GET /campaignSchemas` | the settings of a campaign as a JSON schema |
//! | `POST /campaigns` | a firmware campaign for devices or groups: an operation of type `firmware` |
//! | `POST /operations` | an operation ([`super::plan`]): firmware, software, rollback, client configuration, client log |
//! | `GET /operations/{id}` | an operation with each device's result |
//! | `GET /licenses` | the licenses and their seats |
//! | `POST /webhooks` | register a URL for device status notifications |
//!
//! Every endpoint but the token's wants a bearer token (401 without a valid one); writes want a
//! client with full access (403). Refusals have one shape, `{"error": {"code", "key",
//! "message"}}`, the code being the seed's where it has one ([`PortalError`]).

use super::devices::Upload;
use super::error::PortalError;
use super::operations::{Operation, Part, PartState};
use super::plan::{FirmwarePolicyRequest, Kind, OperationRequest, Plan};
use super::{auth, Event, FaultKind, Portal, State, MAX_OPERATIONS, PREFIX};
use crate::server::{ApiRequest, ApiResponse};
use serde::Deserialize;
use serde_json::{json, Value};

/// Answer one request.
pub(super) fn handle(portal: &Portal, state: &mut State, request: &ApiRequest) -> ApiResponse {
    match route(portal, state, request) {
        Ok(response) => response,
        Err(error) => error.response(),
    }
}

fn route(
    portal: &Portal,
    state: &mut State,
    request: &ApiRequest,
) -> Result<ApiResponse, PortalError> {
    let path = request.path.split('?').next().unwrap_or_default();
    let Some(endpoint) = path.strip_prefix(PREFIX) else {
        return Err(PortalError::NotFound(path.to_string()));
    };
    let method = request.method.as_str();
    if endpoint == "/oauth/token" {
        expect_method(method, "POST", path)?;
        return token(portal, state, request);
    }
    let client = authorize(portal, state, request)?;
    let write = method != "GET" && endpoint != "/devices/getDevices";
    if write && client.access != auth::Access::Full {
        return Err(PortalError::Forbidden(format!("{method} {path}")));
    }
    for kind in [FaultKind::InternalError, FaultKind::UnexpectedError] {
        if state.fire(&portal.config.faults, kind, path) {
            return Err(match kind {
                FaultKind::InternalError => PortalError::Internal,
                _ => PortalError::Unexpected,
            });
        }
    }
    match endpoint {
        "/devices/bulkUpload" => {
            expect_method(method, "POST", path)?;
            bulk_upload(portal, state, body(request)?)
        }
        "/devices/getDevices" => {
            expect_method(method, "POST", path)?;
            get_devices(portal, state, body(request)?)
        }
        "/campaignSchemas" => {
            expect_method(method, "GET", path)?;
            Ok(ApiResponse::json(200, campaign_schema()))
        }
        "/campaigns" => {
            expect_method(method, "POST", path)?;
            let campaign: CampaignRequest = parse(body(request)?)?;
            let name = campaign.name.clone();
            let (id, status) = create(portal, state, campaign.into_operation())?;
            Ok(ApiResponse::json(
                201,
                json!({ "campaignId": format!("campaign-{}", &id[3..]), "name": name, "operationId": id, "status": status }),
            ))
        }
        "/operations" => {
            expect_method(method, "POST", path)?;
            let (id, status) = create(portal, state, parse(body(request)?)?)?;
            Ok(ApiResponse::json(
                201,
                json!({ "operationId": id, "status": status }),
            ))
        }
        "/licenses" => {
            expect_method(method, "GET", path)?;
            Ok(ApiResponse::json(200, licenses(portal, state)))
        }
        "/webhooks" => {
            expect_method(method, "POST", path)?;
            #[derive(Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Hook {
                url: String,
            }
            let hook: Hook = parse(body(request)?)?;
            if !(hook.url.starts_with("http://") || hook.url.starts_with("https://")) {
                return Err(PortalError::BadField(format!(
                    "url: {:?} is not an http(s) URL",
                    hook.url
                )));
            }
            if !state.webhooks.contains(&hook.url) {
                if state.webhooks.len() >= 16 {
                    return Err(PortalError::BadField("url: at most 16 webhooks".into()));
                }
                state.webhooks.push(hook.url.clone());
            }
            Ok(ApiResponse::json(201, json!({ "url": hook.url })))
        }
        _ => match endpoint.strip_prefix("/operations/") {
            Some(id) if !id.is_empty() && !id.contains('/') => {
                expect_method(method, "GET", path)?;
                let op = state
                    .operations
                    .iter()
                    .find(|op| op.id == id)
                    .ok_or_else(|| PortalError::UnknownOperation(id.to_string()))?;
                Ok(ApiResponse::json(200, operation_json(portal, state, op)))
            }
            _ => Err(PortalError::NotFound(path.to_string())),
        },
    }
}

fn expect_method(method: &str, want: &str, path: &str) -> Result<(), PortalError> {
    if method == want {
        Ok(())
    } else {
        Err(PortalError::MethodNotAllowed {
            method: method.to_string(),
            path: path.to_string(),
        })
    }
}

/// The client a request's bearer token is for.
fn authorize<'a>(
    portal: &'a Portal,
    state: &State,
    request: &ApiRequest,
) -> Result<&'a auth::Client, PortalError> {
    let token = request
        .authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Bearer "))
        .ok_or(PortalError::Unauthorized)?;
    let id = state
        .tokens
        .client(token.trim(), state.now)
        .ok_or(PortalError::Unauthorized)?;
    portal
        .clients
        .iter()
        .find(|c| c.id == id)
        .ok_or(PortalError::Unauthorized)
}

fn token(
    portal: &Portal,
    state: &mut State,
    request: &ApiRequest,
) -> Result<ApiResponse, PortalError> {
    let (id, secret) = auth::credentials(request.content_type.as_deref(), &request.body)
        .ok_or_else(|| {
            PortalError::BadField(
                "clientId and clientSecret (JSON), or a client_credentials form".into(),
            )
        })?;
    let known = portal
        .clients
        .iter()
        .any(|c| c.id == id && c.secret == secret);
    if !known {
        return Err(PortalError::BadClient);
    }
    let now = state.now;
    let (token, lifetime) = state.tokens.issue(&id, now);
    Ok(ApiResponse::json(
        200,
        json!({ "access_token": token, "token_type": "Bearer", "expires_in": lifetime }),
    ))
}

/// A request's body as JSON: it must say it is JSON.
fn body(request: &ApiRequest) -> Result<Value, PortalError> {
    let json = request.content_type.as_deref().is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|t| t.trim() == "application/json")
    });
    if !json {
        return Err(PortalError::UnsupportedType);
    }
    serde_json::from_slice(&request.body).map_err(|e| PortalError::BadJson(e.to_string()))
}

/// A JSON value as a request type: a missing or wrong field is named.
fn parse<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, PortalError> {
    serde_json::from_value(value).map_err(|e| PortalError::BadField(e.to_string()))
}

fn bulk_upload(
    portal: &Portal,
    state: &mut State,
    body: Value,
) -> Result<ApiResponse, PortalError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    struct Bulk {
        devices: Vec<Upload>,
        #[serde(default)]
        license_key: Option<String>,
    }
    let bulk: Bulk = parse(body)?;
    if bulk.devices.is_empty() {
        return Err(PortalError::EmptyDeviceList);
    }
    let max = portal.config.catalogue.limits.bulk_upload;
    if bulk.devices.len() > max {
        return Err(PortalError::TooManyDevices {
            count: bulk.devices.len(),
            max,
        });
    }
    let mut accepted = 0;
    let mut rejected = Vec::new();
    for (index, device) in bulk.devices.iter().enumerate() {
        match state.registry.upload(device, bulk.license_key.as_deref()) {
            Ok(_) => accepted += 1,
            Err(reason) => rejected.push(json!({ "index": index, "reason": reason })),
        }
    }
    state.event(Event::DevicesCreated { count: accepted });
    Ok(ApiResponse::json(
        202,
        json!({ "requestId": format!("bulk-{}", state.registry.len()), "accepted": accepted, "rejected": rejected }),
    ))
}

fn get_devices(
    portal: &Portal,
    state: &mut State,
    body: Value,
) -> Result<ApiResponse, PortalError> {
    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields, rename_all = "camelCase", default)]
    struct Query {
        agent_error_codes: Option<Vec<i64>>,
        imeis: Option<Vec<String>>,
        page: usize,
        size: Option<usize>,
    }
    let query: Query = parse(body)?;
    let size = query.size.unwrap_or(100);
    if size == 0 || size > 1000 {
        return Err(PortalError::BadField(format!(
            "size: {size} is not from 1 to 1000"
        )));
    }
    let matching: Vec<usize> = state
        .registry
        .iter()
        .filter(|(_, d)| {
            query.agent_error_codes.as_ref().is_none_or(|codes| {
                d.agent_error
                    .as_ref()
                    .is_some_and(|e| codes.contains(&e.code))
            })
        })
        .filter(|(_, d)| {
            query
                .imeis
                .as_ref()
                .is_none_or(|imeis| d.imei.as_ref().is_some_and(|i| imeis.contains(i)))
        })
        .map(|(i, _)| i)
        .collect();
    let devices: Vec<Value> = matching
        .iter()
        .skip(query.page.saturating_mul(size))
        .take(size)
        .map(|&i| device_json(portal, state, i))
        .collect();
    Ok(ApiResponse::json(
        200,
        json!({ "total": matching.len(), "page": query.page, "devices": devices }),
    ))
}

/// `POST /campaigns`: a firmware campaign.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CampaignRequest {
    name: String,
    model: String,
    firmware_policy: FirmwarePolicyRequest,
    #[serde(default)]
    devices: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
    #[serde(default)]
    trigger: Option<String>,
    #[serde(default)]
    timeout_seconds: Option<u64>,
    #[serde(default)]
    urgent: bool,
}

impl CampaignRequest {
    fn into_operation(self) -> OperationRequest {
        OperationRequest {
            kind: Kind::Firmware,
            devices: self.devices,
            groups: self.groups,
            urgent: self.urgent,
            trigger: self.trigger,
            timeout_seconds: self.timeout_seconds,
            model: Some(self.model),
            firmware_policy: Some(self.firmware_policy),
            software: None,
            deployment_package: None,
            configuration: Default::default(),
            items: Vec::new(),
        }
    }
}

/// Check and create an operation: its id and status.
fn create(
    portal: &Portal,
    state: &mut State,
    request: OperationRequest,
) -> Result<(String, &'static str), PortalError> {
    let mut targets = Vec::new();
    for (i, key) in request.devices.iter().enumerate() {
        let device = state.registry.find(key).ok_or_else(|| {
            PortalError::BadField(format!("devices[{i}]: no device {key:?} was uploaded"))
        })?;
        targets.push(device);
    }
    for (index, device) in state.registry.iter() {
        if device
            .group
            .as_ref()
            .is_some_and(|g| request.groups.contains(g))
        {
            targets.push(index);
        }
    }
    targets.sort_unstable();
    targets.dedup();
    if targets.is_empty() {
        return Err(PortalError::EmptyDeviceList);
    }
    let hosted = &portal.hosted;
    let plan = Plan::check(&request, &portal.config.catalogue, &|p| hosted(p))?;
    if state.operations.len() >= MAX_OPERATIONS {
        return Err(PortalError::BadField(format!(
            "the portal keeps at most {MAX_OPERATIONS} operations"
        )));
    }
    let now = state.now;
    // A new request ends what its devices still had open: -7001, or -7027 for an urgent one.
    let preempted = if request.urgent { -7027 } else { -7001 };
    let mut ended = Vec::new();
    for op in &mut state.operations {
        let expired = op.expired(now);
        for part in op
            .devices
            .iter_mut()
            .filter(|p| targets.contains(&p.device))
        {
            if part.open() && !expired {
                part.state = PartState::Done {
                    code: preempted,
                    at: now,
                };
                ended.push((part.device, op.id.clone()));
            }
        }
    }
    for (device, op) in ended {
        state.readings.remove(&device);
        state.event(Event::StatusChanged {
            device,
            ended: Some((op, preempted)),
        });
    }
    state.created = state.created.saturating_add(1);
    let id = format!("op-{}", state.created);
    let op = Operation {
        id: id.clone(),
        kind: request.kind,
        plan,
        model: request.model.clone(),
        exec_target: None,
        urgent: request.urgent,
        created: now,
        deadline: request.timeout_seconds.map(|t| now.saturating_add(t)),
        devices: targets
            .into_iter()
            .map(|device| Part {
                device,
                state: PartState::Queued,
            })
            .collect(),
    };
    let status = op.status(now);
    state.operations.push(op);
    Ok((id, status))
}

fn licenses(portal: &Portal, state: &State) -> Value {
    let licenses = default_licenses(portal);
    let list: Vec<Value> = licenses
        .iter()
        .map(|l| {
            let used = state
                .registry
                .iter()
                .filter(|(_, d)| d.license.as_deref() == Some(l.key.as_str()))
                .count();
            json!({ "key": l.key, "seats": l.seats, "used": used, "expires": l.expires })
        })
        .collect();
    json!({ "licenses": list })
}

/// The portal's licenses, or the default one.
fn default_licenses(portal: &Portal) -> Vec<super::License> {
    if portal.config.licenses.is_empty() {
        vec![super::License {
            key: "KNOX-EFOTA-DMSIM-0001".into(),
            seats: 100,
            expires: Some("2027-12-31".into()),
        }]
    } else {
        portal.config.licenses.clone()
    }
}

/// `secs` as ISO 8601 extended UTC (`2026-11-30T05:00:00Z`).
fn iso(secs: u64) -> String {
    let b = crate::tree::format_tstamp(secs);
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &b[0..4],
        &b[4..6],
        &b[6..8],
        &b[9..11],
        &b[11..13],
        &b[13..15]
    )
}

/// A code with the profile's words for it.
fn result(code: i64) -> Value {
    json!({ "code": code, "message": super::portal_message(code) })
}

/// One device as `getDevices` shows it.
fn device_json(portal: &Portal, state: &State, index: usize) -> Value {
    let Some(d) = state.registry.get(index) else {
        return Value::Null;
    };
    let now = state.now;
    let report_wait = portal.config.catalogue.limits.report_wait;
    let latest = state.operations.iter().rev().find_map(|op| {
        op.devices
            .iter()
            .find(|p| p.device == index)
            .map(|p| (op, p))
    });
    let licensed = d
        .license
        .as_ref()
        .map(|key| default_licenses(portal).iter().any(|l| &l.key == key));
    let operation_status = match (licensed, latest) {
        (None, _) => "NoLicenseAssigned",
        (Some(false), _) => "InvalidLicense",
        (Some(true), None) => "LicenseAssigned",
        (Some(true), Some((op, p))) => match p.state {
            PartState::Queued if op.expired(now) => "CampaignSyncExpected",
            PartState::Queued => "Pending",
            _ => "CampaignSynced",
        },
    };
    let update_status = match latest.map(|(_, p)| &p.state) {
        None => "None",
        Some(PartState::Queued) => "Pending",
        Some(PartState::Reading { .. }) => "Checking",
        Some(PartState::Sent { .. }) => "InProgress",
        Some(PartState::Done { code: 0, .. }) => "Succeeded",
        Some(PartState::Done { .. }) => "Failed",
    };
    let client_status = if d.seen.is_none() {
        "NotConnected"
    } else if d.agent_error.is_some() {
        "Error"
    } else if matches!(latest.map(|(_, p)| &p.state), Some(PartState::Sent { .. })) {
        "Updating"
    } else {
        "Idle"
    };
    let mut out = json!({
        "imei": d.imei,
        "serialNumber": d.serial,
        "model": d.model,
        "group": d.group,
        "license": d.license,
        "firmwareVersion": d.firmware,
        "clientVersion": d.client_version,
        "lockedFirmware": d.locked,
        "lastSeen": d.seen.map(iso),
        "operationStatus": operation_status,
        "clientStatus": client_status,
        "updateStatus": update_status,
        "agentError": d.agent_error.as_ref().map(|e| json!({
            "code": e.code, "message": e.message, "date": iso(e.at),
        })),
    });
    if let Some((op, part)) = latest {
        let mut o = json!({ "id": op.id, "type": op.kind });
        if let Some(code) = part.result(op, now, report_wait) {
            o["result"] = result(code);
        }
        out["operation"] = o;
    }
    out
}

/// One operation as `GET /operations/{id}` shows it.
fn operation_json(portal: &Portal, state: &State, op: &Operation) -> Value {
    let now = state.now;
    let report_wait = portal.config.catalogue.limits.report_wait;
    let devices: Vec<Value> = op
        .devices
        .iter()
        .map(|p| {
            let d = state.registry.get(p.device);
            let mut v = json!({
                "imei": d.and_then(|d| d.imei.clone()),
                "serialNumber": d.and_then(|d| d.serial.clone()),
            });
            if let Some(code) = p.result(op, now, report_wait) {
                v["result"] = result(code);
            }
            v
        })
        .collect();
    let mut out = json!({
        "id": op.id,
        "type": op.kind,
        "urgent": op.urgent,
        "createdAt": iso(op.created),
        "status": op.status(now),
        "devices": devices,
    });
    if let Some(code) = op.result(now, report_wait) {
        out["result"] = result(code);
    }
    out
}

/// A webhook body for an event.
pub(super) fn event_body(portal: &Portal, state: &State, event: &Event) -> Value {
    match event {
        Event::StatusChanged { device, ended } => {
            let mut body = json!({
                "eventType": "DEVICE_STATUS_CHANGED",
                "occurredAt": iso(state.now),
                "device": device_json(portal, state, *device),
            });
            if let Some((op, code)) = ended {
                body["operationId"] = json!(op);
                body["operationCode"] = json!(code);
            }
            body
        }
        Event::DevicesCreated { count } => json!({
            "eventType": "BULK_DEVICE_CREATE",
            "occurredAt": iso(state.now),
            "count": count,
        }),
    }
}

/// The settings of a campaign, as a JSON schema (draft 2020-12) a UEM can build its form from.
fn campaign_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Campaign",
        "type": "object",
        "required": ["name", "model", "firmwarePolicy"],
        "properties": {
            "name": { "type": "string", "minLength": 1 },
            "model": { "type": "string", "description": "a device model of the catalogue" },
            "firmwarePolicy": {
                "type": "object",
                "required": ["type"],
                "properties": {
                    "type": { "enum": ["latest", "upTo", "specific", "lock"], "default": "latest" },
                    "version": { "type": "string", "description": "for upTo and specific" },
                    "from": { "type": "string", "description": "the version devices update from (a delta update); a full image when absent" }
                },
                "if": { "properties": { "type": { "enum": ["upTo", "specific"] } } },
                "then": { "required": ["version"] }
            },
            "devices": { "type": "array", "items": { "type": "string" }, "description": "IMEIs or serial numbers" },
            "groups": { "type": "array", "items": { "type": "string" } },
            "trigger": { "type": "string", "default": "immediate" },
            "timeoutSeconds": { "type": "integer", "minimum": 1 },
            "urgent": { "type": "boolean", "default": false }
        }
    })
}
