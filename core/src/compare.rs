//! A period's figures against the period before it ("win rate 42 %, ▲ 5 points on last
//! month"), worked out here so that every shell shows the same changes. The previous period of a
//! calendar week, month or quarter is the calendar one before it; of a custom range, the range of
//! the same length just before. The pipeline is a snapshot of the open leads now, not a figure
//! of a period, so it has no change.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{Money, Stage, Target};
use crate::performance::{Attainment, Commission, Performance};
use crate::report::{Figures, Period, Report, ReportQuery};
use crate::store::Store;
use crate::{Result, Zone};

/// A count now and in the previous period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CountChange {
    pub current: i64,
    pub previous: i64,
    pub delta: i64,
    /// Whether the change is good news (fewer lost deals is); `None` when nothing changed.
    pub better: Option<bool>,
}

/// A measured value (a share from 0 to 1, days, minutes) now and before; `delta` in the same
/// unit (a share's delta of 0.05 is 5 percentage points), `None` unless both are known.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ValueChange {
    pub current: Option<f64>,
    pub previous: Option<f64>,
    pub delta: Option<f64>,
    pub better: Option<bool>,
}

/// An amount of one currency now and before (minor units); money is never added across
/// currencies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct MoneyChange {
    pub currency: String,
    pub current: i64,
    pub previous: i64,
    pub delta: i64,
    pub better: Option<bool>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FunnelStepChange {
    pub stage: Stage,
    pub reached: CountChange,
}

/// The changes of one set of `Figures`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FiguresChange {
    pub win_rate: ValueChange,
    pub won: CountChange,
    pub lost: CountChange,
    pub cycle_average_days: ValueChange,
    pub cycle_median_days: ValueChange,
    pub captured: CountChange,
    pub contacted: CountChange,
    pub response_median_minutes: ValueChange,
    pub within_5_minutes: ValueChange,
    pub within_1_hour: ValueChange,
    pub within_24_hours: ValueChange,
    /// Done activities of every kind.
    pub activities: CountChange,
    pub funnel: Vec<FunnelStepChange>,
    pub won_value: Vec<MoneyChange>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RepFiguresChange {
    pub owner: String,
    pub figures: FiguresChange,
}

/// A target's attainment against the same subject's and metric's target of an earlier period
/// (the latest one that ended before this one started), when there is one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct AttainmentChange {
    pub target_id: String,
    pub previous_target_id: Option<String>,
    pub actual: CountChange,
    /// Attainment in basis points now and before; `delta` only when both are known.
    pub attainment_bp_current: Option<i64>,
    pub attainment_bp_previous: Option<i64>,
    pub attainment_bp_delta: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CommissionChange {
    pub rep: String,
    pub commission: Vec<MoneyChange>,
}

/// Every figure of a report against the previous period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ReportChange {
    pub previous: Period,
    pub team: FiguresChange,
    /// Each rep in either period, by owner; a rep absent from one counts zero there.
    pub reps: Vec<RepFiguresChange>,
    /// One per target of the current period, in its order.
    pub attainment: Vec<AttainmentChange>,
    /// One per rep with a plan in either period, by rep.
    pub commission: Vec<CommissionChange>,
}

fn better(delta: f64, higher_is_better: bool) -> Option<bool> {
    if delta == 0.0 { None } else { Some((delta > 0.0) == higher_is_better) }
}

fn count(current: u32, previous: u32, higher_is_better: bool) -> CountChange {
    let (c, p) = (current as i64, previous as i64);
    CountChange {
        current: c,
        previous: p,
        delta: c - p,
        better: better((c - p) as f64, higher_is_better),
    }
}

fn value(current: Option<f64>, previous: Option<f64>, higher_is_better: bool) -> ValueChange {
    let delta = current.zip(previous).map(|(c, p)| c - p);
    ValueChange {
        current,
        previous,
        delta,
        better: delta.and_then(|d| better(d, higher_is_better)),
    }
}

/// Per currency, in currency order; a currency missing from one side counts zero there.
fn money(current: &[Money], previous: &[Money]) -> Vec<MoneyChange> {
    let mut by: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for m in current {
        by.entry(&m.currency).or_default().0 += m.amount_minor;
    }
    for m in previous {
        by.entry(&m.currency).or_default().1 += m.amount_minor;
    }
    by.into_iter()
        .map(|(c, (cur, prev))| MoneyChange {
            currency: c.to_string(),
            current: cur,
            previous: prev,
            delta: cur - prev,
            better: better((cur - prev) as f64, true),
        })
        .collect()
}

fn activities(f: &Figures) -> u32 {
    f.activities.iter().map(|a| a.count).sum()
}

/// The change of every figure from `previous` to `current`.
pub fn figures_change(current: &Figures, previous: &Figures) -> FiguresChange {
    let (c, p) = (current, previous);
    let reached =
        |f: &Figures, s: Stage| f.funnel.iter().find(|x| x.stage == s).map_or(0, |x| x.reached);
    FiguresChange {
        win_rate: value(c.win_rate.rate, p.win_rate.rate, true),
        won: count(c.win_rate.won, p.win_rate.won, true),
        lost: count(c.win_rate.lost, p.win_rate.lost, false),
        cycle_average_days: value(c.sales_cycle.average_days, p.sales_cycle.average_days, false),
        cycle_median_days: value(c.sales_cycle.median_days, p.sales_cycle.median_days, false),
        captured: count(c.captured, p.captured, true),
        contacted: count(c.response_time.contacted, p.response_time.contacted, true),
        response_median_minutes: value(
            c.response_time.median_minutes,
            p.response_time.median_minutes,
            false,
        ),
        within_5_minutes: value(
            c.response_time.within_5_minutes,
            p.response_time.within_5_minutes,
            true,
        ),
        within_1_hour: value(c.response_time.within_1_hour, p.response_time.within_1_hour, true),
        within_24_hours: value(
            c.response_time.within_24_hours,
            p.response_time.within_24_hours,
            true,
        ),
        activities: count(activities(c), activities(p), true),
        funnel: Stage::FUNNEL
            .iter()
            .map(|s| FunnelStepChange {
                stage: *s,
                reached: count(reached(c, *s), reached(p, *s), true),
            })
            .collect(),
        won_value: money(&c.won_value, &p.won_value),
    }
}

fn same_goal(a: &Target, b: &Target) -> bool {
    a.subject_kind == b.subject_kind
        && a.subject == b.subject
        && a.metric == b.metric
        && a.currency == b.currency
}

fn attainment_change(a: &Attainment, previous: &[Attainment]) -> AttainmentChange {
    let before = previous
        .iter()
        .filter(|p| same_goal(&p.target, &a.target) && p.target.period_end <= a.target.period_start)
        .max_by_key(|p| (p.target.period_end, p.target.id.clone()));
    let now_bp = a.progress.attainment_bp;
    let prev_bp = before.and_then(|p| p.progress.attainment_bp);
    let prev_actual = before.map_or(0, |p| p.progress.actual);
    AttainmentChange {
        target_id: a.target.id.clone(),
        previous_target_id: before.map(|p| p.target.id.clone()),
        actual: CountChange {
            current: a.progress.actual,
            previous: prev_actual,
            delta: a.progress.actual - prev_actual,
            better: better((a.progress.actual - prev_actual) as f64, true),
        },
        attainment_bp_current: now_bp,
        attainment_bp_previous: prev_bp,
        attainment_bp_delta: now_bp.zip(prev_bp).map(|(c, p)| c - p),
    }
}

fn commission_changes(current: &[Commission], previous: &[Commission]) -> Vec<CommissionChange> {
    let mut reps: Vec<&str> =
        current.iter().chain(previous).map(|c| c.rep.as_str()).collect::<Vec<_>>();
    reps.sort_unstable();
    reps.dedup();
    let of = |list: &[Commission], rep: &str| -> Vec<Money> {
        list.iter().filter(|c| c.rep == rep).flat_map(|c| c.commission.clone()).collect()
    };
    reps.into_iter()
        .map(|rep| CommissionChange {
            rep: rep.to_string(),
            commission: money(&of(current, rep), &of(previous, rep)),
        })
        .collect()
}

/// Every change from the previous period's report and performance to the current one's.
pub fn report_change(
    current: (&Report, &Performance),
    previous: (&Report, &Performance),
) -> ReportChange {
    let (cr, cp) = current;
    let (pr, pp) = previous;
    let mut owners: Vec<&str> = cr.reps.iter().chain(&pr.reps).map(|r| r.owner.as_str()).collect();
    owners.sort_unstable();
    owners.dedup();
    let empty = Figures::default();
    let of = |r: &'_ Report, o: &str| -> Option<Figures> {
        r.reps.iter().find(|x| x.owner == o).map(|x| x.figures.clone())
    };
    ReportChange {
        previous: pr.period,
        team: figures_change(&cr.team, &pr.team),
        reps: owners
            .into_iter()
            .map(|o| RepFiguresChange {
                owner: o.to_string(),
                figures: figures_change(
                    &of(cr, o).unwrap_or_else(|| empty.clone()),
                    &of(pr, o).unwrap_or_else(|| empty.clone()),
                ),
            })
            .collect(),
        attainment: cp.attainment.iter().map(|a| attainment_change(a, &pp.attainment)).collect(),
        commission: commission_changes(&cp.commission, &pp.commission),
    }
}

/// A report and performance for a period, the same for the period before, and the changes.
#[derive(Clone, Debug, PartialEq)]
pub struct Compared {
    pub current: (Report, Performance),
    pub previous: (Report, Performance),
    pub change: ReportChange,
}

impl Store {
    /// `report` and `performance` for `q` and for the period before it (same owners and
    /// settings; measured as at that period's end), with every figure's change.
    pub fn compared(&self, q: &ReportQuery, zone: &Zone) -> Result<Compared> {
        let mut pq = q.clone();
        pq.period = q.period.preceding(zone);
        pq.now = q.now.min(pq.period.end);
        let current = (self.report(q)?, self.performance(q)?);
        let previous = (self.report(&pq)?, self.performance(&pq)?);
        let change = report_change((&current.0, &current.1), (&previous.0, &previous.1));
        Ok(Compared { current, previous, change })
    }
}
