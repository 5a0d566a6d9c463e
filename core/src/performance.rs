//! Targets, attainment, pace and commission: the arithmetic, over the targets, plans and counts
//! the store reads from its projections (never from documents). A companion of `report.rs`:
//! `Store::performance` takes the same `ReportQuery`, so a screen shows both for one period.
//!
//! Rules, written down because they decide pay:
//! - **Attainment** of a target is measured over the *target's* period: actual ÷ target, in
//!   basis points (floor). A target of 0 has no attainment.
//! - **Pace** compares the actual with the target prorated to the time elapsed:
//!   expected = target × elapsed share (floor), pace = actual ÷ expected (floor, basis points;
//!   10,000 = exactly on pace). Before the period starts nothing is expected and pace is none.
//! - **Actuals** follow `report.rs`'s attribution: leads captured (created in the period), deals
//!   won (current stage won, last moved there in the period), won value (their deal values, in
//!   the target's currency only; other currencies never count), activities done (done, occurred
//!   in the period, by their writer). A rep's target counts their own records; a team's target
//!   counts every record on this device — a manager's device holds the team's, a rep's device
//!   only the rep's own, which is then the rep's contribution.
//! - **Commission** is paid on won value in the report period, per currency. The plan's rate
//!   applies from zero; each tier's rate applies to won value above `from_bp` of the quota (the
//!   rep's `won_value` target with exactly the report's period, in that currency) up to the next
//!   tier — like tax brackets. Deals are taken in closing order; a deal that straddles a
//!   threshold is split, the part below earning the lower rate and the part above the higher.
//!   With no quota (or a quota of 0) tiers do not apply and every unit earns the plan's rate.
//! - **Rounding**: exact products (amount × rate in basis points) are summed over the whole
//!   period in 128-bit integers and divided by 10,000 once, rounding down (the rep is never
//!   paid a fraction of a minor unit; at most one minor unit per currency is lost, never one
//!   per deal). No floating point touches money.
//! - Mixed currencies are reported side by side, never added. Base pay is the plan's base as
//!   written, not prorated.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{
    CompPlan, FULL_BP, Money, SalesSettings, SalesTarget, Stage, StageSetting, SubjectKind,
    TargetMetric, Tier,
};
use crate::report::{Period, StageProbabilities};

/// Share of `[start, end)` elapsed at `now`, in basis points (0–10,000, floor).
pub fn elapsed_bp(start: i64, end: i64, now: i64) -> i64 {
    if end <= start {
        return FULL_BP as i64;
    }
    let e = (now as i128 - start as i128) * FULL_BP as i128 / (end as i128 - start as i128);
    e.clamp(0, FULL_BP as i128) as i64
}

/// `a × FULL_BP ÷ b` rounded down, `None` when `b` is not positive.
fn ratio_bp(a: i64, b: i64) -> Option<i64> {
    if b <= 0 {
        return None;
    }
    Some((a as i128 * FULL_BP as i128 / b as i128).clamp(i64::MIN as i128, i64::MAX as i128) as i64)
}

/// The attainment figures of one target, pure arithmetic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct TargetProgress {
    pub actual: i64,
    pub target: i64,
    /// actual ÷ target in basis points; `None` for a target of 0.
    pub attainment_bp: Option<i64>,
    pub elapsed_bp: i64,
    /// target × elapsed share: what would be done by now at an even pace.
    pub expected: i64,
    /// actual ÷ expected in basis points (10,000 = on pace); `None` while nothing is expected.
    pub pace_bp: Option<i64>,
}

impl TargetProgress {
    pub fn new(actual: i64, target: i64, start: i64, end: i64, now: i64) -> TargetProgress {
        let elapsed = elapsed_bp(start, end, now);
        let expected = (target as i128 * elapsed as i128 / FULL_BP as i128) as i64;
        TargetProgress {
            actual,
            target,
            attainment_bp: ratio_bp(actual, target),
            elapsed_bp: elapsed,
            expected,
            pace_bp: ratio_bp(actual, expected),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Attainment {
    pub target: SalesTarget,
    pub progress: TargetProgress,
}

/// One won deal's share of the commission: the parts of its value and the rate each earns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DealCommission {
    pub lead_id: String,
    pub amount: i64,
    /// `(amount, rate_bp)`; two or more parts when the deal straddles a tier threshold.
    pub parts: Vec<(i64, u32)>,
}

/// The rate brackets for a quota: `(from, rate_bp)` with `from` in minor units, ascending.
fn brackets(quota: Option<i64>, rate_bp: u32, tiers: &[Tier]) -> Vec<(i64, u32)> {
    let mut b = vec![(0i64, rate_bp)];
    if let Some(q) = quota.filter(|q| *q > 0) {
        let mut tiers = tiers.to_vec();
        tiers.sort();
        for t in tiers {
            let from =
                (q as i128 * t.from_bp as i128 / FULL_BP as i128).min(i64::MAX as i128) as i64;
            // A tier at 0 % of quota replaces the base rate.
            match b.last_mut() {
                Some(last) if last.0 == from => last.1 = t.rate_bp,
                _ => b.push((from, t.rate_bp)),
            }
        }
    }
    b
}

/// Splits won deals (in closing order) over the rate brackets.
pub fn split_deals(
    deals: &[(String, i64)],
    quota: Option<i64>,
    rate_bp: u32,
    tiers: &[Tier],
) -> Vec<DealCommission> {
    let b = brackets(quota, rate_bp, tiers);
    let mut done: i64 = 0;
    deals
        .iter()
        .map(|(id, amount)| {
            let mut parts = Vec::new();
            let mut left = (*amount).max(0);
            while left > 0 {
                // The bracket `done` is in, and where the next one starts.
                let i = b.iter().rposition(|(from, _)| *from <= done).unwrap_or(0);
                let room = b.get(i + 1).map_or(i64::MAX, |(next, _)| next - done);
                let take = left.min(room);
                parts.push((take, b[i].1));
                done = done.saturating_add(take);
                left -= take;
            }
            DealCommission { lead_id: id.clone(), amount: *amount, parts }
        })
        .collect()
}

/// The commission of a period: every part's exact product summed, divided once, rounded down.
pub fn commission_total(lines: &[DealCommission]) -> i64 {
    let sum: i128 = lines.iter().flat_map(|l| &l.parts).map(|(a, r)| *a as i128 * *r as i128).sum();
    (sum / FULL_BP as i128).min(i64::MAX as i128) as i64
}

/// A rep's pay for the period under their plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commission {
    pub rep: String,
    pub plan_id: String,
    pub base: Money,
    pub rate_bp: u32,
    pub tiers: Vec<Tier>,
    /// The won-value target for exactly this period, if any (per currency).
    pub quota: Vec<Money>,
    /// Won value in the period, per currency.
    pub won_value: Vec<Money>,
    /// Commission earned, per currency (the currencies of the won value).
    pub commission: Vec<Money>,
    pub deals: Vec<DealCommission>,
}

/// Targets with their attainment and each rep's commission, for one period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Performance {
    pub period: Period,
    /// The workspace's stages (display names, probabilities, rules) the figures used.
    pub stages: Vec<StageSetting>,
    pub attainment: Vec<Attainment>,
    pub commission: Vec<Commission>,
}

/// A rep's commission under `plan` for the period `p`, given the period's targets (for the quota)
/// and the rep's won deals per currency, in closing order.
pub(crate) fn plan_commission(
    plan: &CompPlan,
    p: &Period,
    targets: &[SalesTarget],
    won_deals: BTreeMap<String, Vec<(String, i64)>>,
) -> Commission {
    let quotas: Vec<Money> = targets
        .iter()
        .filter(|t| {
            t.subject_kind == SubjectKind::Rep
                && t.subject == plan.rep
                && t.metric == TargetMetric::WonValue
        })
        .filter(|t| t.period_start == p.start && t.period_end == p.end)
        .filter_map(SalesTarget::money)
        .fold(Vec::new(), |mut v: Vec<Money>, m| {
            if !v.iter().any(|x| x.currency == m.currency) {
                v.push(m);
            }
            v
        });
    let mut c = Commission {
        rep: plan.rep.clone(),
        plan_id: plan.id.clone(),
        base: plan.base.clone(),
        rate_bp: plan.rate_bp,
        tiers: plan.tiers.clone(),
        quota: quotas.clone(),
        won_value: Vec::new(),
        commission: Vec::new(),
        deals: Vec::new(),
    };
    for (currency, deals) in won_deals {
        let quota = quotas.iter().find(|q| q.currency == currency).map(|q| q.amount_minor);
        let lines = split_deals(&deals, quota, plan.rate_bp, &plan.tiers);
        let won: i64 = deals.iter().map(|(_, a)| *a).fold(0i64, |s, a| s.saturating_add(a));
        c.won_value.push(Money { amount_minor: won, currency: currency.clone() });
        c.commission.push(Money { amount_minor: commission_total(&lines), currency });
        c.deals.extend(lines);
    }
    c
}

/// The open stages' probabilities, as the pipeline report takes them.
pub fn probabilities(s: &SalesSettings) -> StageProbabilities {
    StageProbabilities(
        s.stages
            .iter()
            .filter(|st| !st.stage.is_closed())
            .map(|st| (st.stage, st.probability_bp))
            .collect::<BTreeMap<Stage, u32>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    /// (actual, target, now as days into a 10-day period) → (attainment, elapsed, expected, pace)
    type PaceCase = (i64, i64, i64, Option<i64>, i64, i64, Option<i64>);
    /// (what, deal amounts, quota, rate, tiers) → commission
    type CommissionCase = (&'static str, Vec<i64>, Option<i64>, u32, Vec<Tier>, i64);

    #[test]
    fn attainment_and_pace() {
        let cases: &[PaceCase] = &[
            // halfway, on pace
            (5, 10, 5, Some(5_000), 5_000, 5, Some(10_000)),
            // halfway, ahead: 8 done, 5 expected → 160 %
            (8, 10, 5, Some(8_000), 5_000, 5, Some(16_000)),
            // halfway, behind
            (2, 10, 5, Some(2_000), 5_000, 5, Some(4_000)),
            // over target at the end
            (12, 10, 10, Some(12_000), 10_000, 10, Some(12_000)),
            // after the period: elapsed stays 100 %
            (3, 10, 30, Some(3_000), 10_000, 10, Some(3_000)),
            // before the period: nothing expected, no pace
            (0, 10, -1, Some(0), 0, 0, None),
            // zero target: no attainment, no pace
            (4, 0, 5, None, 5_000, 0, None),
            // floors: 1 of 3 = 33.33 %; a third of the period → expected 0 (floor of 0.999…)
            (1, 3, 3, Some(3_333), 3_000, 0, None),
            // money in minor units: 1,234,567 of 10,000,000 at 70 % of the period
            (1_234_567, 10_000_000, 7, Some(1_234), 7_000, 7_000_000, Some(1_763)),
        ];
        for &(actual, target, day, att, el, exp, pace) in cases {
            let p = TargetProgress::new(actual, target, 0, 10 * DAY, day * DAY);
            assert_eq!(
                (p.attainment_bp, p.elapsed_bp, p.expected, p.pace_bp),
                (att, el, exp, pace),
                "actual {actual} target {target} day {day}"
            );
        }
        assert_eq!(elapsed_bp(5, 5, 0), 10_000, "an empty period counts as over");
    }

    fn deals(amounts: &[i64]) -> Vec<(String, i64)> {
        amounts.iter().enumerate().map(|(i, a)| (format!("d{i}"), *a)).collect()
    }

    #[test]
    fn commission_rules() {
        let t = |from_bp, rate_bp| Tier { from_bp, rate_bp };
        let cases: Vec<CommissionCase> = vec![
            ("flat 10 %", vec![1_000, 2_500], None, 1_000, vec![], 350),
            (
                "flat rate floors once on the total, not per deal",
                vec![5, 5, 5],
                None,
                1_000,
                vec![],
                1,
            ),
            ("no deals", vec![], Some(1_000), 1_000, vec![t(10_000, 1_500)], 0),
            (
                "below quota: base rate only",
                vec![400, 500],
                Some(1_000),
                1_000,
                vec![t(10_000, 1_500)],
                90,
            ),
            ("exactly at quota", vec![1_000], Some(1_000), 1_000, vec![t(10_000, 1_500)], 100),
            // 800 @10 % + (200 @10 % + 200 @15 %) = 80 + 20 + 30
            (
                "a deal straddling the quota is split",
                vec![800, 400],
                Some(1_000),
                1_000,
                vec![t(10_000, 1_500)],
                130,
            ),
            (
                "order does not change the total",
                vec![400, 800],
                Some(1_000),
                1_000,
                vec![t(10_000, 1_500)],
                130,
            ),
            // 0–1000 @10 %, 1000–1500 @15 %, 1500–2000 @20 % = 100 + 75 + 100
            (
                "two accelerators",
                vec![2_000],
                Some(1_000),
                1_000,
                vec![t(15_000, 2_000), t(10_000, 1_500)],
                275,
            ),
            (
                "zero quota: tiers do not apply",
                vec![2_000],
                Some(0),
                1_000,
                vec![t(10_000, 1_500)],
                200,
            ),
            ("no quota: tiers do not apply", vec![2_000], None, 1_000, vec![t(10_000, 1_500)], 200),
            (
                "a tier at 0 % replaces the base rate",
                vec![100],
                Some(1_000),
                1_000,
                vec![t(0, 500)],
                5,
            ),
            ("rounding down: 333 @ 12.34 % = 41.0922", vec![333], None, 1_234, vec![], 41),
            (
                "huge amounts do not overflow",
                vec![i64::MAX / 2, i64::MAX / 2],
                None,
                10_000,
                vec![],
                i64::MAX / 2 * 2,
            ),
        ];
        for (what, amounts, quota, rate, tiers, want) in cases {
            let lines = split_deals(&deals(&amounts), quota, rate, &tiers);
            assert_eq!(commission_total(&lines), want, "{what}");
            for (l, a) in lines.iter().zip(&amounts) {
                assert_eq!(
                    l.parts.iter().map(|p| p.0).sum::<i64>(),
                    *a,
                    "{what}: the parts add up to the deal"
                );
            }
        }
        let lines = split_deals(&deals(&[800, 400]), Some(1_000), 1_000, &[t(10_000, 1_500)]);
        assert_eq!(lines[0].parts, vec![(800, 1_000)]);
        assert_eq!(
            lines[1].parts,
            vec![(200, 1_000), (200, 1_500)],
            "the straddling deal: the part up to quota at 10 %, the rest at 15 %"
        );
    }
}
