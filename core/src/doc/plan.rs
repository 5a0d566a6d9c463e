//! A rep's compensation plan ⇄ an Automerge document, a kind of its own (`comp_plan`), one per
//! rep: pay is not a target, and a plan outlives periods. Its base pay is a `{amount,
//! currency}` map and its tiers a list, each replaced as a whole, so concurrent edits never mix
//! one manager's amount with another's currency or interleave two tier tables.

use std::collections::HashMap;

use automerge::hydrate::Value as H;
use automerge::{ActorId, AutoCommit, ObjType, ROOT, ScalarValue, transaction::Transactable};

use super::*;
use crate::model::{CompPlan, CompPlanDraft, Money, Tier};

fn money_h(m: &Money) -> H {
    let mut o: HashMap<&str, H> = HashMap::new();
    o.insert("amount", H::scalar(m.amount_minor));
    o.insert("currency", H::scalar(m.currency.as_str()));
    o.into()
}

pub fn create(
    actor: ActorId,
    id: &str,
    d: &CompPlanDraft,
    user: &str,
    now: i64,
) -> Result<AutoCommit> {
    create_record(actor, DocKind::CompPlan, id, user, now, |root, _| {
        root.insert("rep", H::scalar(d.rep.as_str()));
        root.insert("base", money_h(&d.base));
        root.insert("rate_bp", H::scalar(d.rate_bp as i64));
        root.insert("tiers", d.tiers.iter().map(tier_h).collect::<Vec<H>>().into());
    })
}

fn tier_h(t: &Tier) -> H {
    let mut o: HashMap<&str, H> = HashMap::new();
    o.insert("from_bp", H::scalar(t.from_bp as i64));
    o.insert("rate_bp", H::scalar(t.rate_bp as i64));
    o.into()
}

/// Rewrites what differs; base pay and tiers are replaced as a whole.
pub fn update(
    doc: &mut AutoCommit,
    id: &str,
    d: &CompPlanDraft,
    user: &str,
    now: i64,
) -> Result<bool> {
    let old = read(doc, id)?;
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
        touch(doc, user, now)?;
    }
    Ok(changed)
}

pub fn read(doc: &AutoCommit, id: &str) -> Result<CompPlan> {
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

    #[test]
    fn plans_round_trip_and_replace_tiers_whole() {
        let draft = CompPlanDraft {
            rep: "kim".into(),
            base: Money { amount_minor: 300_000, currency: "USD".into() },
            rate_bp: 1_000,
            tiers: vec![Tier { from_bp: 10_000, rate_bp: 1_500 }],
        };
        let mut d = create(ActorId::random(), "p", &draft, "ann", 1).unwrap();
        let p = read(&d, "p").unwrap();
        assert_eq!(
            (p.rep.as_str(), &p.base, p.rate_bp, p.tiers.clone()),
            ("kim", &draft.base, 1_000, draft.tiers.clone())
        );
        let mut other = draft.clone();
        other.tiers = vec![Tier { from_bp: 12_000, rate_bp: 2_000 }];
        assert!(update(&mut d, "p", &other, "ann", 2).unwrap());
        assert_eq!(read(&d, "p").unwrap().tiers, other.tiers);
        assert!(!update(&mut d, "p", &other, "ann", 3).unwrap());
        d.commit();
        crate::doc::check::check(&d, "p", DocKind::CompPlan).unwrap();
    }
}
