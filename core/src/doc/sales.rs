//! Sales process settings, targets and compensation plans ⇄ Automerge documents.
//!
//! **Settings: one document per workspace with a well-known id ([`SETTINGS_ID`]).** Two
//! managers may create it offline on two devices, each with its own first change and no shared
//! history. Automerge merges such documents (both first changes have no dependencies), but two
//! containers created at the same key would compete and one would hide the other's contents.
//! So the settings document holds **only root scalars**, one key per setting
//! (`stage.proposal.probability_bp`, `stage.proposal.require.deal_value` …): independently
//! created copies merge key by key, a concurrent write to the same setting keeps a deterministic
//! winner (the loser shown as a conflict would be by a lead), and a key that is absent means
//! "the default". A deterministic genesis change (fixed actor) was the alternative; it was
//! rejected because the server binds every change to the device's actor.
//!
//! **Targets** are ordinary documents with a random id, one per subject, metric and period.
//! **Compensation plans** are a kind of their own (`comp_plan`), one per rep: pay is not a
//! target, and a plan outlives periods. Its base pay is a `{amount, currency}` map and its tiers
//! a list, each replaced as a whole, so concurrent edits never mix one manager's amount with
//! another's currency or interleave two tier tables.

use std::collections::HashMap;

use automerge::hydrate::Value as H;
use automerge::{ActorId, AutoCommit, ObjType, ROOT, ScalarValue, transaction::Transactable};

use super::*;
use crate::model::{
    CompPlan, CompPlanDraft, Money, RequiredField, SalesSettings, Stage, StagePatch, SubjectKind,
    Target, TargetDraft, TargetMetric, Tier,
};

/// The id of the workspace's settings document: the same on every device, so that every
/// device's edits land in one document. Ids are only unique within a workspace on the server.
pub const SETTINGS_ID: &str = "00000000-0000-4000-8000-000000005e77";

pub(crate) fn stage_key(stage: Stage, what: &str) -> String {
    format!("stage.{}.{what}", stage.as_str())
}

fn common(root: &mut HashMap<&str, H>, ty: &str, id: &str, user: &str, now: i64) {
    root.insert("schema", H::scalar(SCHEMA_VERSION));
    root.insert("type", H::scalar(ty));
    root.insert("id", H::scalar(id));
    root.insert("created_at", H::scalar(now));
    root.insert("created_by", H::scalar(user));
    root.insert("updated_at", H::scalar(now));
    root.insert("updated_by", H::scalar(user));
    root.insert("deleted", H::scalar(false));
}

// ---- settings ------------------------------------------------------------------------------

/// A settings document with no settings (every stage at its default); the first change of a
/// device that has not seen the workspace's yet.
pub fn settings_create(actor: ActorId, user: &str, now: i64) -> Result<AutoCommit> {
    let mut doc = AutoCommit::new().with_actor(actor);
    let mut root: HashMap<&str, H> = HashMap::new();
    common(&mut root, "settings", SETTINGS_ID, user, now);
    for (k, v) in root {
        doc.put(&ROOT, k, scalar_of(v))?;
    }
    Ok(doc)
}

fn scalar_of(v: H) -> ScalarValue {
    match v {
        H::Scalar(s) => s,
        _ => ScalarValue::Null,
    }
}

/// Applies a validated patch to one stage; true if something changed.
pub fn settings_patch(
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
        super::lead::touch(doc, user, now)?;
    }
    Ok(changed)
}

/// Every stage resolved: the document's values over the defaults.
pub fn settings_read(doc: &AutoCommit, id: &str) -> Result<SalesSettings> {
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

// ---- targets -------------------------------------------------------------------------------

pub fn target_create(
    actor: ActorId,
    id: &str,
    d: &TargetDraft,
    user: &str,
    now: i64,
) -> Result<AutoCommit> {
    let mut doc = AutoCommit::new().with_actor(actor);
    let mut root: HashMap<&str, H> = HashMap::new();
    common(&mut root, "target", id, user, now);
    root.insert("subject_kind", H::scalar(d.subject_kind.as_str()));
    root.insert("subject", H::scalar(d.subject.as_str()));
    root.insert("metric", H::scalar(d.metric.as_str()));
    root.insert("period_start", H::scalar(d.period_start));
    root.insert("period_end", H::scalar(d.period_end));
    root.insert("value", H::scalar(d.value));
    if let Some(c) = &d.currency {
        root.insert("currency", H::scalar(c.as_str()));
    }
    doc.init_root_from_hydrate(&root.into())?;
    commit(&mut doc, now);
    Ok(doc)
}

/// Sets a target's value (and currency, for won value).
pub fn target_set_value(
    doc: &mut AutoCommit,
    value: i64,
    currency: Option<&str>,
    user: &str,
    now: i64,
) -> Result<bool> {
    let mut changed = put_if_changed(doc, &ROOT, "value", ScalarValue::Int(value))?;
    if let Some(c) = currency {
        changed |= put_if_changed(doc, &ROOT, "currency", c.into())?;
    }
    if changed {
        super::lead::touch(doc, user, now)?;
    }
    Ok(changed)
}

pub fn target_read(doc: &AutoCommit, id: &str) -> Result<Target> {
    let tree = hydrate_root(doc, id, DocKind::Target)?;
    let r = HMap::root(&tree)
        .ok_or_else(|| crate::error::Error::corrupt(id, "the root is not a map"))?;
    let bad =
        |what: &str| crate::error::Error::corrupt(id, format!("target without a valid {what}"));
    Ok(Target {
        id: r.str("id").unwrap_or_else(|| id.to_string()),
        subject_kind: r
            .str("subject_kind")
            .and_then(|s| SubjectKind::parse(&s).ok())
            .ok_or_else(|| bad("subject kind"))?,
        subject: r.str("subject").ok_or_else(|| bad("subject"))?,
        metric: r
            .str("metric")
            .and_then(|s| TargetMetric::parse(&s).ok())
            .ok_or_else(|| bad("metric"))?,
        period_start: r.i64("period_start").ok_or_else(|| bad("period"))?,
        period_end: r.i64("period_end").ok_or_else(|| bad("period"))?,
        value: r.i64("value").unwrap_or(0),
        currency: r.str("currency"),
        deleted: r.bool("deleted").unwrap_or(false),
        created_at: r.i64("created_at").unwrap_or(0),
        created_by: r.str("created_by").unwrap_or_default(),
        updated_at: r.i64("updated_at").unwrap_or(0),
        updated_by: r.str("updated_by").unwrap_or_default(),
    })
}

// ---- compensation plans --------------------------------------------------------------------

fn money_h(m: &Money) -> H {
    let mut o: HashMap<&str, H> = HashMap::new();
    o.insert("amount", H::scalar(m.amount_minor));
    o.insert("currency", H::scalar(m.currency.as_str()));
    o.into()
}

pub fn plan_create(
    actor: ActorId,
    id: &str,
    d: &CompPlanDraft,
    user: &str,
    now: i64,
) -> Result<AutoCommit> {
    let mut doc = AutoCommit::new().with_actor(actor);
    let mut root: HashMap<&str, H> = HashMap::new();
    common(&mut root, "comp_plan", id, user, now);
    root.insert("rep", H::scalar(d.rep.as_str()));
    root.insert("base", money_h(&d.base));
    root.insert("rate_bp", H::scalar(d.rate_bp as i64));
    root.insert("tiers", d.tiers.iter().map(tier_h).collect::<Vec<H>>().into());
    doc.init_root_from_hydrate(&root.into())?;
    commit(&mut doc, now);
    Ok(doc)
}

fn tier_h(t: &Tier) -> H {
    let mut o: HashMap<&str, H> = HashMap::new();
    o.insert("from_bp", H::scalar(t.from_bp as i64));
    o.insert("rate_bp", H::scalar(t.rate_bp as i64));
    o.into()
}

/// Rewrites what differs; base pay and tiers are replaced as a whole.
pub fn plan_update(
    doc: &mut AutoCommit,
    id: &str,
    d: &CompPlanDraft,
    user: &str,
    now: i64,
) -> Result<bool> {
    let old = plan_read(doc, id)?;
    let mut changed = false;
    if old.base != d.base {
        let m = doc.put_object(&ROOT, "base", ObjType::Map)?;
        doc.put(&m, "amount", d.base.amount_minor)?;
        doc.put(&m, "currency", d.base.currency.as_str())?;
        changed = true;
    }
    changed |= put_if_changed(doc, &ROOT, "rate_bp", ScalarValue::Int(d.rate_bp as i64))?;
    if old.tiers != d.tiers {
        let l = doc.put_object(&ROOT, "tiers", ObjType::List)?;
        for (i, t) in d.tiers.iter().enumerate() {
            let m = doc.insert_object(&l, i, ObjType::Map)?;
            doc.put(&m, "from_bp", t.from_bp as i64)?;
            doc.put(&m, "rate_bp", t.rate_bp as i64)?;
        }
        changed = true;
    }
    changed |= put_if_changed(doc, &ROOT, "deleted", false.into())?;
    if changed {
        super::lead::touch(doc, user, now)?;
    }
    Ok(changed)
}

pub fn plan_read(doc: &AutoCommit, id: &str) -> Result<CompPlan> {
    let tree = hydrate_root(doc, id, DocKind::CompPlan)?;
    let r = HMap::root(&tree)
        .ok_or_else(|| crate::error::Error::corrupt(id, "the root is not a map"))?;
    let base = r
        .map("base")
        .and_then(|m| Some(Money { amount_minor: m.i64("amount")?, currency: m.str("currency")? }))
        .ok_or_else(|| crate::error::Error::corrupt(id, "plan without a base pay"))?;
    let clamp = |v: i64| v.clamp(0, u32::MAX as i64) as u32;
    let mut tiers: Vec<Tier> = r
        .list("tiers")
        .filter_map(|v| {
            let m = HMap::root(v)?;
            Some(Tier { from_bp: clamp(m.i64("from_bp")?), rate_bp: clamp(m.i64("rate_bp")?) })
        })
        .collect();
    tiers.sort();
    Ok(CompPlan {
        id: r.str("id").unwrap_or_else(|| id.to_string()),
        rep: r.str("rep").ok_or_else(|| crate::error::Error::corrupt(id, "plan without a rep"))?,
        base,
        rate_bp: clamp(r.i64("rate_bp").unwrap_or(0)),
        tiers,
        deleted: r.bool("deleted").unwrap_or(false),
        created_at: r.i64("created_at").unwrap_or(0),
        created_by: r.str("created_by").unwrap_or_default(),
        updated_at: r.i64("updated_at").unwrap_or(0),
        updated_by: r.str("updated_by").unwrap_or_default(),
    })
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
        let mut a = settings_create(actor(), "ann", 1).unwrap();
        settings_patch(
            &mut a,
            Stage::Proposal,
            &StagePatch {
                probability_bp: Some(5_000),
                required: Some(vec![RequiredField::DealValue]),
                ..Default::default()
            },
            "ann",
            1,
        )
        .unwrap();
        a.commit();
        let mut b = settings_create(actor(), "bob", 2).unwrap();
        settings_patch(
            &mut b,
            Stage::Qualified,
            &StagePatch { name: Some("Qualified (BANT)".into()), ..Default::default() },
            "bob",
            2,
        )
        .unwrap();
        b.commit();
        let mut a2 = a.fork();
        let mut b2 = b.fork();
        a2.merge(&mut b).unwrap();
        b2.merge(&mut a).unwrap();
        let (sa, sb) =
            (settings_read(&a2, SETTINGS_ID).unwrap(), settings_read(&b2, SETTINGS_ID).unwrap());
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
        let mut d = settings_create(actor(), "ann", 1).unwrap();
        let req = |v: Vec<RequiredField>| StagePatch { required: Some(v), ..Default::default() };
        assert!(
            settings_patch(
                &mut d,
                Stage::Won,
                &req(vec![RequiredField::DealValue, RequiredField::Company]),
                "ann",
                1
            )
            .unwrap()
        );
        assert!(
            settings_patch(&mut d, Stage::Won, &req(vec![RequiredField::Company]), "ann", 2)
                .unwrap()
        );
        assert!(
            !settings_patch(&mut d, Stage::Won, &req(vec![RequiredField::Company]), "ann", 3)
                .unwrap(),
            "no change, no write"
        );
        assert_eq!(
            settings_read(&d, SETTINGS_ID).unwrap().stage(Stage::Won).unwrap().required,
            vec![RequiredField::Company]
        );
    }

    #[test]
    fn plans_round_trip_and_replace_tiers_whole() {
        let draft = CompPlanDraft {
            rep: "kim".into(),
            base: Money { amount_minor: 300_000, currency: "USD".into() },
            rate_bp: 1_000,
            tiers: vec![Tier { from_bp: 10_000, rate_bp: 1_500 }],
        };
        let mut d = plan_create(actor(), "p", &draft, "ann", 1).unwrap();
        let p = plan_read(&d, "p").unwrap();
        assert_eq!(
            (p.rep.as_str(), &p.base, p.rate_bp, p.tiers.clone()),
            ("kim", &draft.base, 1_000, draft.tiers.clone())
        );
        let mut other = draft.clone();
        other.tiers = vec![Tier { from_bp: 12_000, rate_bp: 2_000 }];
        assert!(plan_update(&mut d, "p", &other, "ann", 2).unwrap());
        assert_eq!(plan_read(&d, "p").unwrap().tiers, other.tiers);
        assert!(!plan_update(&mut d, "p", &other, "ann", 3).unwrap());
        d.commit();
        crate::doc::check::check(&d, "p", DocKind::CompPlan).unwrap();
    }
}
