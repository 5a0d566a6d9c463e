//! The workspace's sales process settings ⇄ an Automerge document.
//!
//! **One document per workspace with a well-known id ([`SETTINGS_ID`]).** Two managers may
//! create it offline on two devices, each with its own first change and no shared history.
//! Automerge merges such documents (both first changes have no dependencies), but two
//! containers created at the same key would compete and one would hide the other's contents.
//! So the settings document holds **only root scalars**, one key per setting
//! (`stage.proposal.probability_bp`, `stage.proposal.require.deal_value` …): independently
//! created copies merge key by key, a concurrent write to the same setting keeps a deterministic
//! winner (the loser shown as a conflict would be by a lead), and a key that is absent means
//! "the default". A deterministic genesis change (fixed actor) was the alternative; it was
//! rejected because the server binds every change to the device's actor.

use std::collections::HashMap;

use automerge::hydrate::Value as H;
use automerge::{ActorId, AutoCommit, ROOT, ScalarValue, transaction::Transactable};

use super::*;
use crate::model::{RequiredField, SalesSettings, Stage, StagePatch};

/// The id of the workspace's settings document: the same on every device, so that every
/// device's edits land in one document. Ids are only unique within a workspace on the server.
pub const SETTINGS_ID: &str = "00000000-0000-4000-8000-000000005e77";

pub(crate) fn stage_key(stage: Stage, what: &str) -> String {
    format!("stage.{}.{what}", stage.as_str())
}

/// A new settings document holding `patch` of `stage` (every other setting at its default), in
/// one change: the first change of a device that has not seen the workspace's settings yet.
pub fn create(
    actor: ActorId,
    stage: Stage,
    patch: &StagePatch,
    user: &str,
    now: i64,
) -> Result<AutoCommit> {
    let mut doc = AutoCommit::new().with_actor(actor);
    let mut root: HashMap<&str, H> = HashMap::new();
    record_root(&mut root, DocKind::Settings, SETTINGS_ID, user, now);
    for (k, v) in root {
        doc.put(&ROOT, k, scalar_of(v))?;
    }
    self::patch(&mut doc, stage, patch, user, now)?;
    commit(&mut doc, now);
    Ok(doc)
}

fn scalar_of(v: H) -> ScalarValue {
    match v {
        H::Scalar(s) => s,
        _ => ScalarValue::Null,
    }
}

/// Applies a validated patch to one stage; true if something changed.
pub fn patch(
    doc: &mut AutoCommit,
    stage: Stage,
    p: &StagePatch,
    user: &str,
    now: i64,
) -> Result<bool> {
    let mut changed = false;
    if let Some(n) = &p.name {
        changed |= put_if_changed(doc, &ROOT, &stage_key(stage, "name"), n.as_str().into())?;
    }
    if let Some(bp) = p.probability_bp {
        changed |= put_if_changed(
            doc,
            &ROOT,
            &stage_key(stage, "probability_bp"),
            ScalarValue::Int(bp as i64),
        )?;
    }
    if let Some(req) = &p.required {
        for f in RequiredField::ALL {
            let key = stage_key(stage, &format!("require.{}", f.as_str()));
            let want = req.contains(f);
            // Absent means "not required": only write a false over an existing true.
            if want || get_scalar(doc, &ROOT, &key).is_some() {
                changed |= put_if_changed(doc, &ROOT, &key, want.into())?;
            }
        }
    }
    if changed {
        touch(doc, user, now)?;
    }
    Ok(changed)
}

/// Every stage resolved: the document's values over the defaults.
pub fn read(doc: &AutoCommit, id: &str) -> Result<SalesSettings> {
    let tree = hydrate_root(doc, id, DocKind::Settings)?;
    let r = HMap::root(&tree)
        .ok_or_else(|| crate::error::Error::corrupt(id, "the root is not a map"))?;
    let mut s = SalesSettings::default();
    for st in &mut s.stages {
        if let Some(n) = r.str(&stage_key(st.stage, "name")).filter(|n| !n.trim().is_empty()) {
            st.name = n;
        }
        if let Some(bp) = r
            .i64(&stage_key(st.stage, "probability_bp"))
            .filter(|b| (0..=crate::model::FULL_BP as i64).contains(b))
        {
            st.probability_bp = bp as u32;
        }
        st.required = RequiredField::ALL
            .iter()
            .copied()
            .filter(|f| {
                r.bool(&stage_key(st.stage, &format!("require.{}", f.as_str()))) == Some(true)
            })
            .collect();
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor() -> ActorId {
        ActorId::random()
    }

    #[test]
    fn two_settings_documents_created_offline_merge_into_one() {
        // Two managers, two devices, no shared history: each creates the settings document and
        // sets a different stage; a third sets the same stage as the first.
        let proposal = StagePatch {
            probability_bp: Some(5_000),
            required: Some(vec![RequiredField::DealValue]),
            ..Default::default()
        };
        let mut a = create(actor(), Stage::Proposal, &proposal, "ann", 1).unwrap();
        let qualified = StagePatch { name: Some("Qualified (BANT)".into()), ..Default::default() };
        let mut b = create(actor(), Stage::Qualified, &qualified, "bob", 2).unwrap();
        let mut a2 = a.fork();
        let mut b2 = b.fork();
        a2.merge(&mut b).unwrap();
        b2.merge(&mut a).unwrap();
        let (sa, sb) = (read(&a2, SETTINGS_ID).unwrap(), read(&b2, SETTINGS_ID).unwrap());
        assert_eq!(sa, sb, "both orders converge");
        let p = sa.stage(Stage::Proposal).unwrap();
        assert_eq!((p.probability_bp, p.required.clone()), (5_000, vec![RequiredField::DealValue]));
        assert_eq!(sa.name(Stage::Qualified), "Qualified (BANT)");
        assert_eq!(
            sa.stage(Stage::New).unwrap().probability_bp,
            1_000,
            "defaults where nothing was set"
        );
        crate::doc::check::check(&a2, SETTINGS_ID, DocKind::Settings).unwrap();
    }

    #[test]
    fn a_required_field_can_be_dropped_again() {
        let mut d = create(actor(), Stage::Won, &StagePatch::default(), "ann", 1).unwrap();
        let req = |v: Vec<RequiredField>| StagePatch { required: Some(v), ..Default::default() };
        assert!(
            patch(
                &mut d,
                Stage::Won,
                &req(vec![RequiredField::DealValue, RequiredField::Company]),
                "ann",
                1
            )
            .unwrap()
        );
        assert!(patch(&mut d, Stage::Won, &req(vec![RequiredField::Company]), "ann", 2).unwrap());
        assert!(
            !patch(&mut d, Stage::Won, &req(vec![RequiredField::Company]), "ann", 3).unwrap(),
            "no change, no write"
        );
        assert_eq!(
            read(&d, SETTINGS_ID).unwrap().stage(Stage::Won).unwrap().required,
            vec![RequiredField::Company]
        );
    }
}
