//! Issue 14, point 1: a revoked device can follow its own advice. Its store, enrolled again
//! for the same user with a fresh code, gets its device back with a new token and sends
//! everything that waited in its outbox; the revoked token stays dead; a code for another user
//! never claims the store's actor.

mod common;
use common::*;
use fieldsales_core::sync::{SyncClient, SyncError, SyncPhase, enroll, enroll_as};
use fieldsales_core::*;
use fieldsales_server::backend::Role;

const LEADS: usize = 2_500;

async fn status_with(url: &str, token: &str) -> u16 {
    let body =
        fieldsales_core::sync::protocol::to_cbor(&fieldsales_core::sync::protocol::PullRequest {
            cursor: String::new(),
            limit: 1,
        });
    raw_http()
        .post(format!("{url}/v1/pull"))
        .bearer_auth(token)
        .header("content-type", fieldsales_core::sync::protocol::CBOR)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_revoked_mid_sync_is_enrolled_again_and_sends_everything() {
    let server = Server::start().await;
    let ws = server.workspace("acme");
    server.team(&ws, "seoul");
    server.admin.add_user(&ws, "kim", Role::Rep, Some("seoul")).unwrap();
    let park = server.device(&ws, "park", Role::Manager, Some("seoul")).await;

    // A day of offline work on the manager's phone: leads, edits, activities, the sales
    // process, a target and a plan.
    let drafts: Vec<LeadDraft> = (0..LEADS)
        .map(|i| LeadDraft { name: Some(format!("Lead {i:04}")), ..Default::default() })
        .collect();
    let leads = park.create_leads(drafts).unwrap();
    for l in leads.iter().step_by(25) {
        park.update_lead(&l.id, LeadPatch { company: Some("Edited".into()), ..Default::default() })
            .unwrap();
        park.add_activity(ActivityDraft::new(&l.id, ActivityKind::Call, "Called")).unwrap();
    }
    park.set_stage(
        Stage::Proposal,
        StagePatch { probability_bp: Some(5_500), ..Default::default() },
    )
    .unwrap();
    let target = park
        .set_target(TargetDraft {
            id: None,
            subject_kind: SubjectKind::Rep,
            subject: "kim".into(),
            metric: TargetMetric::DealsWon,
            period_start: 0,
            period_end: 4_102_444_800_000,
            value: 12,
            currency: None,
        })
        .unwrap();
    let plan = park
        .set_plan(CompPlanDraft {
            rep: "kim".into(),
            base: Money { amount_minor: 3_000_000, currency: "KRW".into() },
            rate_bp: 500,
            tiers: vec![],
        })
        .unwrap();
    let waiting = park.outbox_len().unwrap();
    assert!(waiting > LEADS as i64);

    // The admin revokes the phone while it is sending: after its second batch.
    let old_token = park.token();
    let device_id = park.device_id.clone();
    // A second handle on the server's storage (SQLite or PostgreSQL), as an admin's would be.
    let admin = server.db.admin().await;
    let client = SyncClient::for_store(&park).unwrap();
    let err = client
        .sync(&park, &move |p| {
            if p.phase == SyncPhase::Push && p.done == 1_000 {
                admin.revoke_device(&device_id).unwrap();
            }
        })
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Unauthorized), "{err}");
    let left = park.outbox_len().unwrap();
    assert!(left > 0 && left < waiting, "{left} of {waiting} left");
    assert_eq!(status_with(&server.url, &old_token).await, 401);

    // A code for another user never claims the store's actor, whether or not the device says
    // whose store it is; the code stays good for its own user.
    let kim_code = server.admin.enrollment_code(&ws, "kim").unwrap();
    match enroll(&server.url, &kim_code, "park's phone", &park.actor_id()).await {
        Err(SyncError::Server { status: 409, code, .. }) => assert_eq!(code, "actor_taken"),
        other => panic!("expected actor_taken, got {other:?}"),
    }
    match enroll_as(&server.url, &kim_code, "park's phone", &park.actor_id(), Some("park")).await {
        Err(SyncError::Server { status: 409, code, message }) => {
            assert_eq!(code, "wrong_user");
            assert!(message.contains("'kim'"), "{message}");
        }
        other => panic!("expected wrong_user, got {other:?}"),
    }
    let kim = Device::enroll(&server.url, &kim_code).await.expect("the code is still good");

    // Park enrolls the same store again with a fresh code of his own.
    let code = server.admin.enrollment_code(&ws, "park").unwrap();
    let creds = enroll_as(&server.url, &code, "park's phone", &park.actor_id(), Some("park"))
        .await
        .unwrap();
    assert_eq!(creds.device_id, park.device_id, "the store gets its device back");
    SyncClient::save_credentials(&park, &creds).unwrap();
    assert_eq!(status_with(&server.url, &old_token).await, 401, "the revoked token stays dead");
    let s = park.sync().await.unwrap();
    assert_eq!(s.rejected, 0);
    assert_eq!(s.sent as i64, left);
    assert_eq!(park.outbox_len().unwrap(), 0);
    assert_eq!(park.quarantine_len().unwrap(), 0);
    let listed = server.admin.list_devices(&ws).unwrap();
    let mine = listed.iter().find(|d| d.id == park.device_id).unwrap();
    assert!(!mine.revoked);

    // The server has every one: a new device of park's receives it all.
    let tablet = server.device(&ws, "park", Role::Manager, None).await;
    tablet.sync().await.unwrap();
    assert_eq!(tablet.lead_ids().len(), LEADS);
    for l in leads.iter().step_by(25) {
        assert_eq!(tablet.lead(&l.id).unwrap().company.as_deref(), Some("Edited"));
        assert_eq!(tablet.activities_for_lead(&l.id).unwrap().len(), 1);
    }
    assert_eq!(
        tablet.sales_settings().unwrap().stage(Stage::Proposal).map(|s| s.probability_bp),
        Some(5_500)
    );
    assert!(tablet.targets(0, i64::MAX).unwrap().iter().any(|t| t.id == target.id));
    assert!(tablet.plans().unwrap().iter().any(|p| p.id == plan.id));
    // And kim sees her plan and target.
    kim.sync().await.unwrap();
    assert!(kim.plans().unwrap().iter().any(|p| p.id == plan.id));
}
