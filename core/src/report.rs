//! Sales reports computed on the phone, offline: win rate, sales cycle, funnel, lead response
//! time, pipeline, activities, sources and events, leads going cold. Pure computation over the
//! projection rows the store hands it (`Store::report`, which never loads a document): one pass
//! builds the team's figures and each rep's.
//!
//! Attribution rules, written down because every sales team asks:
//! - a lead counts for its *current* owner (a lead reassigned mid-period counts for the new one);
//! - won/lost counts leads whose current stage is won/lost and whose last move to it falls in
//!   the period (a lead reopened after lost is not closed; lost then won counts as won once);
//! - the funnel and response time follow the cohort of leads *captured* in the period; a lead
//!   that skipped stages counts as having passed them;
//! - times come from the devices that wrote them; a negative duration (a clock that was behind)
//!   counts as zero rather than being dropped;
//! - money is summed per currency, never across currencies.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::calendar::DAY;
pub use crate::calendar::Period;
use crate::model::{ActivityKind, Millis, Money, Stage};

/// Probability of closing, in basis points (1/100 of a percent), per open stage; the manager
/// sets them. Integer arithmetic keeps weighted money exact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageProbabilities(pub BTreeMap<Stage, u32>);

impl Default for StageProbabilities {
    fn default() -> Self {
        StageProbabilities(BTreeMap::from([
            (Stage::New, 1_000),
            (Stage::Contacted, 2_000),
            (Stage::Qualified, 4_000),
            (Stage::Proposal, 6_000),
            (Stage::Negotiation, 8_000),
        ]))
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportQuery {
    pub period: Period,
    /// Whose leads; `None` means every lead on this device (a manager's device holds the team's).
    pub owners: Option<Vec<String>>,
    pub probabilities: StageProbabilities,
    /// A lead with no activity for this many days is "going cold".
    pub cold_after_days: u32,
    /// How many going-cold leads each list holds (the coldest first); `going_cold_count` has
    /// them all. A phone shows a screenful, and a team of 100,000 leads can have 60,000 cold
    /// ones: listing them all was most of the report's time (docs/benchmarks.md).
    #[serde(default = "default_cold_list_limit")]
    pub cold_list_limit: u32,
    pub now: Millis,
}

fn default_cold_list_limit() -> u32 {
    50
}

impl ReportQuery {
    pub fn new(period: Period, now: Millis) -> Self {
        ReportQuery {
            period,
            owners: None,
            probabilities: StageProbabilities::default(),
            cold_after_days: 14,
            cold_list_limit: default_cold_list_limit(),
            now,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct WinRate {
    pub won: u32,
    pub lost: u32,
    /// won ÷ (won + lost); `None` when nothing closed.
    pub rate: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SalesCycle {
    pub won: u32,
    pub average_days: Option<f64>,
    pub median_days: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct FunnelStep {
    pub stage: Stage,
    /// Leads of the cohort that reached this stage or a later one.
    pub reached: u32,
    /// reached ÷ reached at the previous stage.
    pub conversion: Option<f64>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ResponseTime {
    /// Leads captured in the period.
    pub leads: u32,
    /// Of those, contacted (a done call, meeting, visit or e-mail) at all.
    pub contacted: u32,
    pub median_minutes: Option<f64>,
    pub p90_minutes: Option<f64>,
    /// Shares of all captured leads contacted within 5 minutes, 1 hour and 24 hours.
    pub within_5_minutes: Option<f64>,
    pub within_1_hour: Option<f64>,
    pub within_24_hours: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PipelineStage {
    pub stage: Stage,
    pub leads: u32,
    /// Per currency.
    pub value: Vec<Money>,
    pub weighted: Vec<Money>,
    pub probability_bp: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ActivityCount {
    pub kind: ActivityKind,
    pub count: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SourceFigures {
    /// The event name, or the capture channel, depending on the list.
    pub source: String,
    pub leads: u32,
    pub won: u32,
    pub won_value: Vec<Money>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ColdLead {
    pub lead_id: String,
    pub name: String,
    pub owner: String,
    pub last_activity_at: Option<Millis>,
    pub idle_days: i64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Figures {
    pub win_rate: WinRate,
    pub sales_cycle: SalesCycle,
    pub funnel: Vec<FunnelStep>,
    pub response_time: ResponseTime,
    pub pipeline: Vec<PipelineStage>,
    pub activities: Vec<ActivityCount>,
    pub by_event: Vec<SourceFigures>,
    pub by_channel: Vec<SourceFigures>,
    /// The coldest going-cold leads, most idle first, at most `ReportQuery::cold_list_limit`.
    pub going_cold: Vec<ColdLead>,
    /// All leads going cold.
    pub going_cold_count: u32,
    /// Leads captured in the period.
    pub captured: u32,
    /// Won value in the period, per currency.
    pub won_value: Vec<Money>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct RepFigures {
    pub owner: String,
    pub figures: Figures,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Report {
    pub period: Period,
    pub team: Figures,
    pub reps: Vec<RepFigures>,
}

/// Adds money per currency; the result is sorted by currency.
#[derive(Default)]
struct Purse(BTreeMap<String, i64>);

impl Purse {
    fn add(&mut self, amount: i64, currency: &str) {
        match self.0.get_mut(currency) {
            Some(a) => *a += amount,
            None => {
                self.0.insert(currency.to_string(), amount);
            }
        }
    }
    fn to_vec(&self) -> Vec<Money> {
        self.0.iter().map(|(c, a)| Money { amount_minor: *a, currency: c.clone() }).collect()
    }
}

#[derive(Default)]
struct Source {
    leads: u32,
    won: u32,
    value: Purse,
}

#[derive(Default)]
struct Acc {
    won: u32,
    lost: u32,
    cycles: Vec<i64>,
    reached: [u32; 6],
    captured: u32,
    responses: Vec<i64>,
    pipeline: BTreeMap<Stage, (u32, Purse, Purse)>,
    activities: BTreeMap<ActivityKind, u32>,
    events: BTreeMap<String, Source>,
    channels: BTreeMap<String, Source>,
    cold: Coldest,
    won_value: Purse,
}

/// The coldest going-cold leads, at most `limit`, and how many there are in all. A team of a
/// million leads can have 600,000 going cold; keeping only the list a phone shows (a bounded
/// heap) spares a `ColdLead` and a sort entry for each of the others.
#[derive(Default)]
struct Coldest {
    limit: usize,
    count: u32,
    /// The kept leads; the top is the least cold of them, the first to give way.
    kept: std::collections::BinaryHeap<ByColdness>,
}

/// A `ColdLead` ordered as the lists are: most idle first, then by lead id.
struct ByColdness(ColdLead);

/// The order of a going-cold list: most idle first, then by lead id.
fn coldness(idle_days: i64, lead_id: &str) -> (std::cmp::Reverse<i64>, &str) {
    (std::cmp::Reverse(idle_days), lead_id)
}

impl ByColdness {
    fn key(&self) -> (std::cmp::Reverse<i64>, &str) {
        coldness(self.0.idle_days, &self.0.lead_id)
    }
}

impl PartialEq for ByColdness {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for ByColdness {}
impl PartialOrd for ByColdness {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ByColdness {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl Coldest {
    fn new(limit: u32) -> Self {
        Coldest { limit: limit as usize, ..Default::default() }
    }

    fn add(&mut self, l: &LeadRow<'_>, idle_days: i64) {
        self.count += 1;
        if self.limit == 0 {
            return;
        }
        if self.kept.len() == self.limit {
            // Lead ids are unique, so the order is total and the kept list the same whatever
            // order the rows come in.
            let colder =
                self.kept.peek().is_some_and(|least| coldness(idle_days, l.id) < least.key());
            if !colder {
                return;
            }
            self.kept.pop();
        }
        self.kept.push(ByColdness(ColdLead {
            lead_id: l.id.to_string(),
            name: l.name.to_string(),
            owner: l.owner.to_string(),
            last_activity_at: l.last_activity,
            idle_days,
        }));
    }

    /// The kept leads, coldest first.
    fn into_list(self) -> Vec<ColdLead> {
        self.kept.into_sorted_vec().into_iter().map(|c| c.0).collect()
    }
}

fn median(sorted: &[i64]) -> Option<f64> {
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[n / 2] as f64),
        n => Some((sorted[n / 2 - 1] as f64 + sorted[n / 2] as f64) / 2.0),
    }
}

/// Nearest-rank percentile.
fn percentile(sorted: &[i64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1] as f64)
}

fn ratio(a: u32, b: u32) -> Option<f64> {
    if b == 0 { None } else { Some(a as f64 / b as f64) }
}

impl Acc {
    fn finish(mut self, probabilities: &StageProbabilities) -> Figures {
        self.cycles.sort_unstable();
        self.responses.sort_unstable();
        let contacted = self.responses.len() as u32;
        let within = |limit_ms: i64| {
            ratio(self.responses.iter().filter(|r| **r <= limit_ms).count() as u32, self.captured)
        };
        let funnel = Stage::FUNNEL
            .iter()
            .enumerate()
            .map(|(i, s)| FunnelStep {
                stage: *s,
                reached: self.reached[i],
                conversion: if i == 0 { None } else { ratio(self.reached[i], self.reached[i - 1]) },
            })
            .collect();
        let source_list = |m: &BTreeMap<String, Source>| {
            m.iter()
                .map(|(k, s)| SourceFigures {
                    source: k.clone(),
                    leads: s.leads,
                    won: s.won,
                    won_value: s.value.to_vec(),
                })
                .collect()
        };
        Figures {
            win_rate: WinRate {
                won: self.won,
                lost: self.lost,
                rate: ratio(self.won, self.won + self.lost),
            },
            sales_cycle: SalesCycle {
                won: self.cycles.len() as u32,
                average_days: if self.cycles.is_empty() {
                    None
                } else {
                    Some(
                        self.cycles.iter().sum::<i64>() as f64
                            / self.cycles.len() as f64
                            / DAY as f64,
                    )
                },
                median_days: median(&self.cycles).map(|m| m / DAY as f64),
            },
            funnel,
            response_time: ResponseTime {
                leads: self.captured,
                contacted,
                median_minutes: median(&self.responses).map(|m| m / 60_000.0),
                p90_minutes: percentile(&self.responses, 0.9).map(|m| m / 60_000.0),
                within_5_minutes: within(5 * 60_000),
                within_1_hour: within(3_600_000),
                within_24_hours: within(DAY),
            },
            pipeline: Stage::FUNNEL[..5]
                .iter()
                .map(|s| {
                    let (n, v, w) = self.pipeline.remove(s).unwrap_or_default();
                    PipelineStage {
                        stage: *s,
                        leads: n,
                        value: v.to_vec(),
                        weighted: w.to_vec(),
                        probability_bp: probabilities.0.get(s).copied().unwrap_or(0),
                    }
                })
                .collect(),
            activities: self
                .activities
                .iter()
                .map(|(k, c)| ActivityCount { kind: *k, count: *c })
                .collect(),
            by_event: source_list(&self.events),
            by_channel: source_list(&self.channels),
            going_cold_count: self.cold.count,
            going_cold: self.cold.into_list(),
            captured: self.captured,
            won_value: self.won_value.to_vec(),
        }
    }
}

/// One lead row as the report reads it, borrowed from the statement (no allocation per lead).
pub(crate) struct LeadRow<'a> {
    pub(crate) id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) owner: &'a str,
    pub(crate) stage: Stage,
    pub(crate) created_at: i64,
    pub(crate) closed_at: Option<i64>,
    pub(crate) reached_rank: u8,
    pub(crate) amount: Option<i64>,
    pub(crate) currency: Option<&'a str>,
    pub(crate) event: Option<&'a str>,
    pub(crate) channel: &'a str,
    pub(crate) first_contact: Option<i64>,
    pub(crate) last_activity: Option<i64>,
}

/// A short list keyed by name (each owner's figures, each writer's activity counts): a team has
/// a handful of reps, and a linear search over borrowed names, the last hit first, is cheaper
/// than hashing an owned name for every row.
struct ByName<T> {
    list: Vec<(String, T)>,
    last: usize,
}

impl<T> ByName<T> {
    fn new() -> Self {
        ByName { list: Vec::new(), last: 0 }
    }

    /// The entry of `name`, made with `make` if there is none.
    fn get_or(&mut self, name: &str, make: impl FnOnce() -> T) -> &mut T {
        if self.list.get(self.last).is_none_or(|(n, _)| n != name) {
            self.last = match self.list.iter().position(|(n, _)| n == name) {
                Some(i) => i,
                None => {
                    self.list.push((name.to_string(), make()));
                    self.list.len() - 1
                }
            };
        }
        &mut self.list[self.last].1
    }
}

impl<T: Default> ByName<T> {
    fn get(&mut self, name: &str) -> &mut T {
        self.get_or(name, T::default)
    }
}

/// A report in the making: the store hands it every lead row in scope and every done activity
/// of the period, then `finish` works out the figures.
pub(crate) struct Tally<'q> {
    q: &'q ReportQuery,
    team: Acc,
    reps: ByName<Acc>,
    /// Done activities per writer and kind, counted here rather than with GROUP BY, which would
    /// sort every activity of the period.
    counts: ByName<[u32; ActivityKind::ALL.len()]>,
}

impl<'q> Tally<'q> {
    pub(crate) fn new(q: &'q ReportQuery) -> Self {
        Tally { q, team: Acc::new(q), reps: ByName::new(), counts: ByName::new() }
    }

    pub(crate) fn lead(&mut self, l: &LeadRow<'_>) {
        self.team.add_lead(l, self.q);
        let q = self.q;
        self.reps.get_or(l.owner, || Acc::new(q)).add_lead(l, q);
    }

    /// One done activity of the period, by its writer.
    pub(crate) fn activity(&mut self, who: &str, kind: ActivityKind) {
        self.counts.get(who)[kind as usize] += 1;
    }

    pub(crate) fn finish(self) -> Report {
        let Tally { q, mut team, mut reps, counts, .. } = self;
        for (who, per_kind) in counts.list {
            for (kind, n) in ActivityKind::ALL.iter().zip(per_kind).filter(|(_, n)| *n > 0) {
                *team.activities.entry(*kind).or_default() += n;
                *reps.get_or(&who, || Acc::new(q)).activities.entry(*kind).or_default() += n;
            }
        }
        let mut reps: Vec<RepFigures> = reps
            .list
            .into_iter()
            .map(|(owner, acc)| RepFigures { owner, figures: acc.finish(&q.probabilities) })
            .collect();
        reps.sort_by(|a, b| a.owner.cmp(&b.owner));
        let team = team.finish(&q.probabilities);
        Report { period: q.period, team, reps }
    }
}

impl Acc {
    fn new(q: &ReportQuery) -> Self {
        Acc { cold: Coldest::new(q.cold_list_limit), ..Default::default() }
    }

    fn add_lead(&mut self, l: &LeadRow<'_>, q: &ReportQuery) {
        let (first_contact, last_activity) = (l.first_contact, l.last_activity);
        let p = &q.period;
        if let Some(closed) = l.closed_at.filter(|t| p.contains(*t)) {
            match l.stage {
                Stage::Won => {
                    self.won += 1;
                    self.cycles.push((closed - l.created_at).max(0));
                    if let (Some(a), Some(c)) = (l.amount, l.currency) {
                        self.won_value.add(a, c);
                    }
                }
                Stage::Lost => self.lost += 1,
                _ => {}
            }
        }
        if p.contains(l.created_at) {
            self.captured += 1;
            for i in 0..=(l.reached_rank.min(5) as usize) {
                self.reached[i] += 1;
            }
            if let Some(c) = first_contact {
                self.responses.push((c - l.created_at).max(0));
            }
            let won = l.stage == Stage::Won;
            for (map, key) in [
                (&mut self.events, l.event.unwrap_or("(no event)")),
                (&mut self.channels, l.channel),
            ] {
                let s = match map.get_mut(key) {
                    Some(s) => s,
                    None => map.entry(key.to_string()).or_default(),
                };
                s.leads += 1;
                if won {
                    s.won += 1;
                    if let (Some(a), Some(c)) = (l.amount, l.currency) {
                        s.value.add(a, c);
                    }
                }
            }
        }
        if !l.stage.is_closed() {
            let bp = q.probabilities.0.get(&l.stage).copied().unwrap_or(0);
            let e = self.pipeline.entry(l.stage).or_default();
            e.0 += 1;
            if let (Some(a), Some(c)) = (l.amount, l.currency) {
                e.1.add(a, c);
                e.2.add(((a as i128 * bp as i128) / 10_000) as i64, c);
            }
            let since = last_activity.unwrap_or(l.created_at);
            let idle = (q.now - since).div_euclid(DAY);
            if idle >= q.cold_after_days as i64 {
                self.cold.add(l, idle);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_coldest_list_is_the_sorted_list_cut_to_its_limit_whatever_the_row_order() {
        // 500 leads with many equal idle days, in a scrambled order.
        let leads: Vec<(String, i64)> = (0..500)
            .map(|i| (format!("lead-{:03}", (i * 263) % 500), (i * 7 % 23) as i64))
            .collect();
        let mut sorted = leads.clone();
        sorted.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        for limit in [0, 1, 7, 50, 499, 500, 600] {
            let mut c = Coldest::new(limit);
            for (id, idle) in &leads {
                let row = LeadRow {
                    id,
                    name: "n",
                    owner: "o",
                    stage: Stage::New,
                    created_at: 0,
                    closed_at: None,
                    reached_rank: 0,
                    amount: None,
                    currency: None,
                    event: None,
                    channel: "manual",
                    first_contact: None,
                    last_activity: Some(*idle),
                };
                c.add(&row, *idle);
            }
            assert_eq!(c.count, 500);
            let got: Vec<(String, i64)> =
                c.into_list().into_iter().map(|l| (l.lead_id, l.idle_days)).collect();
            let want: Vec<(String, i64)> = sorted.iter().take(limit as usize).cloned().collect();
            assert_eq!(got, want, "limit {limit}");
        }
    }

    #[test]
    fn medians_and_percentiles() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3]), Some(3.0));
        assert_eq!(median(&[1, 2, 3, 10]), Some(2.5));
        assert_eq!(percentile(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9), Some(9.0));
        assert_eq!(percentile(&[7], 0.9), Some(7.0));
    }
}
