// The Team screen (managers): the team's report for the week, month or quarter — win rate,
// cycle, funnel, pipeline raw and weighted, response-time shares, each rep's row, targets with
// attainment, commission — and each figure's change against the previous period, as the core
// works it out (`teamReportCompared`); this model words and formats it.

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
    /// "+3", "−₩500,000", "+5 pts", "+2.5 days".
    public let text: String
    /// Which way the figure went.
    public let trend: Trend
    /// Whether that is good news (fewer lost deals, a shorter cycle are); nil when it did not move.
    public let better: Bool?
    /// "up 3 on the previous period".
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
    public let change: FigureChange?
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
    public let change: FigureChange?
}

public struct RepRow: Identifiable, Equatable, Sendable {
    public var id: String { owner }
    public let owner: String
    public let captured: Int
    public let won: Int
    public let lost: Int
    public let winRateText: String
    public let winRateChange: FigureChange?
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
    /// Attainment against the same target's in the previous period, in percentage points.
    public let change: FigureChange?
    public let accessibilityLabel: String
}

public struct CommissionRow: Identifiable, Equatable, Sendable {
    public var id: String { rep }
    public let rep: String
    public let commissionText: String
    public let baseText: String
    public let wonValueText: String
    public let quotaText: String
    public let change: FigureChange?
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

    /// Reads the period's report with the previous period's and the changes between them.
    public func load() async {
        let now = context.nowMs
        let period = self.period
        do {
            let compared = try await core.teamReportCompared(period.ffi, nowMs: now, timeZone: context.timeZoneName)
            guard period == self.period else { return }
            show(compared)
            errorText = nil
        } catch {
            errorText = context.plainError(error)
        }
        loadCount += 1
    }

    private func show(_ compared: ComparedReport) {
        let cur = compared.current, ch = compared.change
        current = cur
        previous = compared.previous
        let names = StageNames(stages: cur.stages, strings: s)
        periodText = f.period(cur.period)
        let t = cur.team, c = ch.team
        figures = [
            figure(.winRate, s(.teamWinRate), f.percent(t.winRate.rate), points(c.winRate)),
            figure(.wonValue, s(.teamWonValue), f.money(t.wonValue), c.wonValue.count == 1 ? money(c.wonValue[0]) : nil),
            figure(.dealsWon, s(.teamDealsWon), f.number(Int(t.winRate.won)), count(c.won)),
            figure(.captured, s(.teamCaptured), f.number(Int(t.captured)), count(c.captured)),
            figure(.cycle, s(.teamCycle), f.days(t.salesCycle.averageDays), days(c.cycleAverageDays)),
        ]
        let first = max(Double(t.funnel.first?.reached ?? 0), 1)
        funnel = t.funnel.map { step in
            let name = names.name(step.stage)
            let conversion = f.percent(step.conversion)
            return FunnelBar(stage: step.stage, name: name, reached: Int(step.reached), share: Double(step.reached) / first,
                             conversionText: conversion, change: c.funnel.first { $0.stage == step.stage }.map { count($0.reached) },
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
        response = [(s(.teamWithin5Minutes), r.within5Minutes, c.within5Minutes), (s(.teamWithin1Hour), r.within1Hour, c.within1Hour),
                    (s(.teamWithin24Hours), r.within24Hours, c.within24Hours)]
            .map { ShareRow(label: $0.0, share: $0.1, text: f.percent($0.1), change: points($0.2)) }
        reps = cur.reps.map { rep in
            let x = rep.figures
            let rc = ch.reps.first { $0.owner == rep.owner }?.figures
            let rate = f.percent(x.winRate.rate), value = f.money(x.wonValue)
            return RepRow(owner: rep.owner, captured: Int(x.captured), won: Int(x.winRate.won), lost: Int(x.winRate.lost),
                          winRateText: rate, winRateChange: rc.flatMap { points($0.winRate) }, wonValueText: value,
                          wonValueChange: rc.flatMap { $0.wonValue.count == 1 ? money($0.wonValue[0]) : nil },
                          accessibilityLabel: s(.a11yRepRow, rep.owner, f.number(Int(x.winRate.won)), rate, value))
        }
        attainment = cur.attainment.map { a in bar(a, ch.attainment.first { $0.targetId == a.target.id }) }
        commission = cur.commission.map { cm in
            let earned = f.money(cm.commission)
            let cc = ch.commission.first { $0.rep == cm.rep }?.commission
            return CommissionRow(rep: cm.rep, commissionText: earned, baseText: f.money(cm.base), wonValueText: f.money(cm.wonValue),
                                 quotaText: f.money(cm.quota), change: cc.flatMap { $0.count == 1 ? money($0[0]) : nil },
                                 accessibilityLabel: s(.a11yCommission, cm.rep, earned, f.money(cm.base)))
        }
    }

    private func figure(_ kind: TeamFigure.Kind, _ label: String, _ value: String, _ change: FigureChange?) -> TeamFigure {
        let spoken = [label, value, change?.accessibilityLabel].compactMap { $0 }.joined(separator: ", ")
        return TeamFigure(kind: kind, label: label, value: value, change: change, accessibilityLabel: spoken)
    }

    private func bar(_ a: Attainment, _ change: AttainmentChange?) -> AttainmentBar {
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
        let moved = change?.attainmentBpDelta.map { bp in
            self.change(s(.changePoints, pointsText(Double(abs(bp)) / 100)), Double(bp), better: bp == 0 ? nil : bp > 0)
        }
        return AttainmentBar(id: t.id, title: title, fraction: fraction, attainmentText: attained, detailText: detail, paceText: pace,
                             change: moved, accessibilityLabel: [title, attained, detail, pace].joined(separator: ", "))
    }

    // MARK: changes against the previous period (the core's deltas, worded here)

    /// A change of `magnitude` (formatted, without sign) in the direction of `delta`.
    private func change(_ magnitude: String, _ delta: Double, better: Bool?) -> FigureChange {
        let trend: FigureChange.Trend = delta > 0 ? .up : delta < 0 ? .down : .flat
        let sign = delta > 0 ? "+" : delta < 0 ? "−" : "±"
        let key: Strings.Key = trend == .up ? .a11yChangeUp : trend == .down ? .a11yChangeDown : .a11yChangeFlat
        return FigureChange(text: sign + magnitude, trend: trend, better: better, accessibilityLabel: s(key, magnitude))
    }

    /// Counts: the difference ("+3").
    func count(_ c: CountChange) -> FigureChange {
        change(f.number(Int(abs(c.delta))), Double(c.delta), better: c.better)
    }

    /// Money of one currency: the difference ("+₩500,000").
    func money(_ m: MoneyChange) -> FigureChange {
        change(f.money(Money(amountMinor: abs(m.delta), currency: m.currency)), Double(m.delta), better: m.better)
    }

    /// Shares: the difference in percentage points ("+5 pts"); none unless both periods have one.
    func points(_ v: ValueChange) -> FigureChange? {
        guard let d = v.delta else { return nil }
        let pts = (d * 1000).rounded() / 10
        return change(s(.changePoints, pointsText(abs(pts))), pts, better: v.better)
    }

    /// Days: the difference ("+2.5 days"); none unless both periods have a value.
    func days(_ v: ValueChange) -> FigureChange? {
        guard let d = v.delta else { return nil }
        let rounded = (d * 10).rounded() / 10
        return change(f.days(abs(rounded)), rounded, better: v.better)
    }

    private func pointsText(_ v: Double) -> String {
        v.formatted(.number.precision(.fractionLength(0...1)).locale(context.locale))
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
