// The Team screen (managers): the team's report for the week, month or quarter — win rate,
// cycle, funnel, pipeline raw and weighted, response-time shares, each rep's row, targets with
// attainment, commission — and each headline figure's change against the previous period.

import FieldSalesKit
import Foundation
import Observation

/// Which period the report covers: the local one holding now.
public enum TeamPeriod: CaseIterable, Sendable {
    case week, month, quarter

    var ffi: ReportPeriod {
        switch self {
        case .week: return .week
        case .month: return .month
        case .quarter: return .quarter
        }
    }
}

/// A figure's change against the previous period.
public struct FigureChange: Equatable, Sendable {
    public enum Trend: Sendable { case up, down, flat }
    /// "+25%", "−5 pts", "new".
    public let text: String
    public let trend: Trend
    /// "up 25% on the previous period".
    public let accessibilityLabel: String
}

/// A headline figure.
public struct TeamFigure: Identifiable, Equatable, Sendable {
    public enum Kind: CaseIterable, Sendable { case winRate, wonValue, dealsWon, captured, cycle }
    public var id: Kind { kind }
    public let kind: Kind
    public let label: String
    public let value: String
    public let change: FigureChange?
    public let accessibilityLabel: String
}

public struct FunnelBar: Identifiable, Equatable, Sendable {
    public var id: Stage { stage }
    public let stage: Stage
    public let name: String
    public let reached: Int
    /// Of the funnel's first step (the bar's length, 0…1).
    public let share: Double
    public let conversionText: String
    public let accessibilityLabel: String
}

public struct PipelineRow: Identifiable, Equatable, Sendable {
    public var id: Stage { stage }
    public let stage: Stage
    public let name: String
    public let leads: Int
    public let valueText: String
    public let weightedText: String
    public let probabilityText: String
    public let accessibilityLabel: String
}

public struct ShareRow: Identifiable, Equatable, Sendable {
    public var id: String { label }
    public let label: String
    public let share: Double?
    public let text: String
}

public struct RepRow: Identifiable, Equatable, Sendable {
    public var id: String { owner }
    public let owner: String
    public let captured: Int
    public let won: Int
    public let lost: Int
    public let winRateText: String
    public let wonValueText: String
    public let wonValueChange: FigureChange?
    public let accessibilityLabel: String
}

public struct AttainmentBar: Identifiable, Equatable, Sendable {
    public let id: String
    public let title: String
    /// Attained share of the target for the bar (0…1.5, capped so a big win fits the chart).
    public let fraction: Double
    public let attainmentText: String
    /// "₩5,000,000 of ₩4,000,000".
    public let detailText: String
    public let paceText: String
    public let accessibilityLabel: String
}

public struct CommissionRow: Identifiable, Equatable, Sendable {
    public var id: String { rep }
    public let rep: String
    public let commissionText: String
    public let baseText: String
    public let wonValueText: String
    public let quotaText: String
    public let accessibilityLabel: String
}

@MainActor
@Observable
public final class TeamViewModel {
    public var period: TeamPeriod = .week {
        didSet { if period != oldValue { Task { await load() } } }
    }
    public private(set) var periodText = ""
    public private(set) var figures: [TeamFigure] = []
    public private(set) var funnel: [FunnelBar] = []
    public private(set) var pipeline: [PipelineRow] = []
    public private(set) var pipelineTotalText = ""
    public private(set) var pipelineWeightedText = ""
    public private(set) var response: [ShareRow] = []
    public private(set) var reps: [RepRow] = []
    public private(set) var attainment: [AttainmentBar] = []
    public private(set) var commission: [CommissionRow] = []
    public private(set) var errorText: String?
    public private(set) var loadCount = 0
    /// The reports shown, for the charts' raw numbers.
    public private(set) var current: SalesReport?
    public private(set) var previous: SalesReport?

    public let context: UIContext
    let core: CoreCalls

    public init(core: CoreCalls, context: UIContext) {
        self.core = core
        self.context = context
    }

    private var s: Strings { context.strings }
    private var f: Formats { context.formats }

    /// Reads the period's report and the previous period's (the one holding the instant before
    /// this one starts).
    public func load() async {
        let now = context.nowMs
        let period = self.period
        do {
            let cur = try await core.teamReport(period.ffi, nowMs: now, utcOffsetMinutes: context.utcOffsetMinutes(at: now))
            let before = cur.period.start - 1
            let prev = try await core.teamReport(period.ffi, nowMs: before, utcOffsetMinutes: context.utcOffsetMinutes(at: before))
            guard period == self.period else { return }
            show(cur, prev)
            errorText = nil
        } catch {
            errorText = context.plainError(error)
        }
        loadCount += 1
    }

    private func show(_ cur: SalesReport, _ prev: SalesReport) {
        current = cur
        previous = prev
        let names = StageNames(stages: cur.stages, strings: s)
        periodText = f.period(cur.period)
        let t = cur.team, p = prev.team
        figures = [
            figure(.winRate, s(.teamWinRate), f.percent(t.winRate.rate), pointsChange(t.winRate.rate, p.winRate.rate)),
            figure(.wonValue, s(.teamWonValue), f.money(t.wonValue), moneyChange(t.wonValue, p.wonValue)),
            figure(.dealsWon, s(.teamDealsWon), f.number(Int(t.winRate.won)), countChange(Int64(t.winRate.won), Int64(p.winRate.won))),
            figure(.captured, s(.teamCaptured), f.number(Int(t.captured)), countChange(Int64(t.captured), Int64(p.captured))),
            figure(.cycle, s(.teamCycle), f.days(t.salesCycle.averageDays), daysChange(t.salesCycle.averageDays, p.salesCycle.averageDays)),
        ]
        let first = max(Double(t.funnel.first?.reached ?? 0), 1)
        funnel = t.funnel.map { step in
            let name = names.name(step.stage)
            let conversion = f.percent(step.conversion)
            return FunnelBar(stage: step.stage, name: name, reached: Int(step.reached), share: Double(step.reached) / first,
                             conversionText: conversion,
                             accessibilityLabel: s(.a11yFunnelStep, name, f.number(Int(step.reached)), conversion))
        }
        pipeline = t.pipeline.map { row in
            let name = names.name(row.stage)
            let value = f.money(row.value), weighted = f.money(row.weighted)
            return PipelineRow(stage: row.stage, name: name, leads: Int(row.leads), valueText: value, weightedText: weighted,
                               probabilityText: f.percent(bp: Int64(row.probabilityBp)),
                               accessibilityLabel: s(.a11yPipelineStage, name, f.number(Int(row.leads)), value, weighted))
        }
        pipelineTotalText = f.money(Self.sum(t.pipeline.map(\.value)))
        pipelineWeightedText = f.money(Self.sum(t.pipeline.map(\.weighted)))
        let r = t.responseTime
        response = [(s(.teamWithin5Minutes), r.within5Minutes), (s(.teamWithin1Hour), r.within1Hour), (s(.teamWithin24Hours), r.within24Hours)]
            .map { ShareRow(label: $0.0, share: $0.1, text: f.percent($0.1)) }
        let before = Dictionary(prev.reps.map { ($0.owner, $0.figures) }, uniquingKeysWith: { a, _ in a })
        reps = cur.reps.map { rep in
            let x = rep.figures
            let change = moneyChange(x.wonValue, before[rep.owner]?.wonValue ?? [])
            let rate = f.percent(x.winRate.rate), value = f.money(x.wonValue)
            return RepRow(owner: rep.owner, captured: Int(x.captured), won: Int(x.winRate.won), lost: Int(x.winRate.lost),
                          winRateText: rate, wonValueText: value, wonValueChange: change,
                          accessibilityLabel: s(.a11yRepRow, rep.owner, f.number(Int(x.winRate.won)), rate, value))
        }
        attainment = cur.attainment.map(bar)
        commission = cur.commission.map { c in
            let earned = f.money(c.commission)
            return CommissionRow(rep: c.rep, commissionText: earned, baseText: f.money(c.base), wonValueText: f.money(c.wonValue),
                                 quotaText: f.money(c.quota), accessibilityLabel: s(.a11yCommission, c.rep, earned, f.money(c.base)))
        }
    }

    private func figure(_ kind: TeamFigure.Kind, _ label: String, _ value: String, _ change: FigureChange?) -> TeamFigure {
        let spoken = [label, value, change?.accessibilityLabel].compactMap { $0 }.joined(separator: ", ")
        return TeamFigure(kind: kind, label: label, value: value, change: change, accessibilityLabel: spoken)
    }

    private func bar(_ a: Attainment) -> AttainmentBar {
        let t = a.target, pr = a.progress
        let amount: (Int64) -> String = { v in
            t.currency.map { self.f.money(Money(amountMinor: v, currency: $0)) } ?? self.f.number(Int(v))
        }
        let subject = t.subjectKind == .team ? s(.teamTargetTeam, t.subject) : t.subject
        let title = "\(subject) · \(s.metric(t.metric))"
        let attained = f.percent(bp: pr.attainmentBp)
        let detail = s(.teamOfTarget, amount(pr.actual), amount(pr.target))
        let pace = s(.teamPace, f.percent(bp: pr.paceBp))
        let fraction = min(max(Double(pr.attainmentBp ?? 0) / 10_000, 0), 1.5)
        return AttainmentBar(id: t.id, title: title, fraction: fraction, attainmentText: attained, detailText: detail, paceText: pace,
                             accessibilityLabel: [title, attained, detail, pace].joined(separator: ", "))
    }

    // MARK: changes against the previous period

    /// A change of `magnitude` (already formatted, without sign) in the direction of `delta`.
    private func change(_ magnitude: String, _ delta: Double) -> FigureChange {
        let trend: FigureChange.Trend = delta > 0 ? .up : delta < 0 ? .down : .flat
        let sign = delta > 0 ? "+" : delta < 0 ? "−" : "±"
        let key: Strings.Key = trend == .up ? .a11yChangeUp : trend == .down ? .a11yChangeDown : .a11yChangeFlat
        return FigureChange(text: sign + magnitude, trend: trend, accessibilityLabel: s(key, magnitude))
    }

    /// Counts: the relative change; "new" when the previous period had none.
    func countChange(_ cur: Int64, _ prev: Int64) -> FigureChange {
        if prev == 0 {
            if cur == 0 { return change(f.percent(0), 0) }
            return FigureChange(text: s(.changeNew), trend: .up, accessibilityLabel: s(.a11yChangeNew))
        }
        let rel = Double(cur - prev) / Double(prev)
        return change(f.percent(abs(rel)), rel)
    }

    /// Money: the relative change when both periods are in one currency.
    func moneyChange(_ cur: [Money], _ prev: [Money]) -> FigureChange? {
        let currencies = Set(cur.map(\.currency) + prev.map(\.currency))
        guard currencies.count <= 1 else { return nil }
        return countChange(cur.first?.amountMinor ?? 0, prev.first?.amountMinor ?? 0)
    }

    /// Rates: the difference in percentage points; none when either period has no rate.
    func pointsChange(_ cur: Double?, _ prev: Double?) -> FigureChange? {
        guard let cur, let prev else { return nil }
        let points = ((cur - prev) * 1000).rounded() / 10
        let magnitude = abs(points).formatted(.number.precision(.fractionLength(0...1)).locale(context.locale))
        return change(s(.changePoints, magnitude), points)
    }

    /// Days of the sales cycle: the difference (shorter is better, but the arrow says which way it went).
    func daysChange(_ cur: Double?, _ prev: Double?) -> FigureChange? {
        guard let cur, let prev else { return nil }
        let d = ((cur - prev) * 10).rounded() / 10
        return change(f.days(abs(d)), d)
    }

    /// Amounts summed per currency.
    nonisolated static func sum(_ lists: [[Money]]) -> [Money] {
        var total: [String: Int64] = [:]
        for m in lists.joined() { total[m.currency, default: 0] += m.amountMinor }
        return total.keys.sorted().map { Money(amountMinor: total[$0] ?? 0, currency: $0) }
    }

    // MARK: labels

    public var periodOptions: [(TeamPeriod, String)] {
        [(.week, s(.periodWeek)), (.month, s(.periodMonth)), (.quarter, s(.periodQuarter))]
    }

    public func accessibilityLabel(_ control: Control) -> String {
        switch control {
        case .period(let p):
            let name = periodOptions.first { $0.0 == p }?.1 ?? ""
            return s(period == p ? .a11yPeriodOn : .a11yPeriodOff, name)
        case .funnelChart: return s(.a11yFunnelChart, funnel.map { "\($0.name) \(f.number($0.reached))" }.joined(separator: ", "))
        case .attainmentChart: return s(.a11yAttainmentChart, attainment.map { "\($0.title) \($0.attainmentText)" }.joined(separator: ", "))
        }
    }

    public enum Control: Hashable, Sendable {
        case period(TeamPeriod), funnelChart, attainmentChart
    }
}
