import FieldSalesKit
import FieldSalesTestSupport
@testable import FieldSalesUI
import Foundation
import XCTest

final class TeamViewModelTests: ViewModelTestCase {
    /// The Seoul week holding `date`, computed here with Foundation's calendar (ISO weeks start
    /// on Monday), independently of the core's period arithmetic.
    func seoulWeek(of date: Date) -> (start: Int64, end: Int64) {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = seoul
        let start = calendar.dateInterval(of: .weekOfYear, for: date)!.start
        let end = calendar.date(byAdding: .day, value: 7, to: start)!
        return (Int64(start.timeIntervalSince1970 * 1000), Int64(end.timeIntervalSince1970 * 1000))
    }

    /// A manager's store with the team's leads captured and closed now: rep-kim won 3,000,000 and
    /// 2,000,000 and lost one; rep-lee won 1,000,000 and has a 500,000 quote open; the manager
    /// lost one. Kim's quota this week is 4,000,000 (10 %, 15 % above the quota); the team's
    /// target is 4 deals.
    func seededManager() async throws -> (CoreCalls, Date) {
        let core = try await openCore("mgr-park")
        _ = try await core.kit.createLeads(teamFixture)
        let now = Date()
        let week = seoulWeek(of: now)
        let store = core.kit.store
        _ = try store.setTarget(draft: TargetDraft(subjectKind: .rep, subject: "rep-kim", metric: .wonValue, periodStart: week.start,
                                                   periodEnd: week.end, value: 4_000_000, currency: "KRW"))
        _ = try store.setTarget(draft: TargetDraft(subjectKind: .team, subject: "seoul", metric: .dealsWon, periodStart: week.start,
                                                   periodEnd: week.end, value: 4))
        _ = try store.setPlan(draft: CompPlanDraft(rep: "rep-kim", base: krw(2_000_000), rateBp: 1_000, tiers: [Tier(fromBp: 10_000, rateBp: 1_500)]))
        return (core, now)
    }

    @MainActor
    func testTheTeamScreenShowsTheSeededFiguresComputedHere() async throws {
        let (core, now) = try await seededManager()
        let team = TeamViewModel(core: core, context: .english(seoul, now: now))
        await team.load()
        XCTAssertNil(team.errorText)
        let week = seoulWeek(of: now)
        XCTAssertEqual(team.current?.period.start, week.start)
        XCTAssertEqual(team.current?.period.end, week.end)
        XCTAssertEqual(team.previous?.period.end, week.start, "the previous week ends where this one starts")

        // 3 won, 2 lost: 60 %. Won 6,000,000. 6 captured. Nothing in the previous week.
        let figure = { (k: TeamFigure.Kind) in team.figures.first { $0.kind == k } }
        XCTAssertEqual(figure(.winRate)?.value, "60%")
        XCTAssertNil(figure(.winRate)?.change, "no rate last week to compare with")
        XCTAssertEqual(figure(.wonValue)?.value, "₩6,000,000")
        XCTAssertEqual(figure(.wonValue)?.change?.text, "+₩6,000,000")
        XCTAssertEqual(figure(.wonValue)?.change?.trend, .up)
        XCTAssertEqual(figure(.wonValue)?.change?.better, true)
        XCTAssertEqual(figure(.dealsWon)?.value, "3")
        XCTAssertEqual(figure(.captured)?.value, "6")
        XCTAssertEqual(figure(.captured)?.accessibilityLabel, "Leads captured, 6, up 6 on the previous period")

        // Funnel: every lead reached "new"; the lost ones went no further; the 3 won passed
        // every stage; the open quote reached proposal.
        XCTAssertEqual(team.funnel.map(\.stage), [.new, .contacted, .qualified, .proposal, .negotiation, .won])
        XCTAssertEqual(team.funnel.map(\.reached), [6, 4, 4, 4, 3, 3])
        XCTAssertEqual(team.funnel.map(\.share), [1, 4.0 / 6, 4.0 / 6, 4.0 / 6, 0.5, 0.5])
        XCTAssertEqual(team.funnel[1].conversionText, "66.7%")

        // Pipeline: the open quote, 500,000 at the proposal stage's 60 % = 300,000 weighted.
        let proposal = try XCTUnwrap(team.pipeline.first { $0.stage == .proposal })
        XCTAssertEqual(proposal.leads, 1)
        XCTAssertEqual(proposal.valueText, "₩500,000")
        XCTAssertEqual(proposal.weightedText, "₩300,000")
        XCTAssertEqual(proposal.probabilityText, "60%")
        XCTAssertEqual(team.pipelineTotalText, "₩500,000")
        XCTAssertEqual(team.pipelineWeightedText, "₩300,000")

        // Nobody was contacted: every response share is 0 %.
        XCTAssertEqual(team.response.map(\.text), ["0%", "0%", "0%"])
        XCTAssertEqual(team.response.map(\.label), ["within 5 minutes", "within 1 hour", "within 24 hours"])

        XCTAssertEqual(team.reps.map(\.owner), ["mgr-park", "rep-kim", "rep-lee"])
        let kim = try XCTUnwrap(team.reps.first { $0.owner == "rep-kim" })
        XCTAssertEqual([kim.won, kim.lost, kim.captured], [2, 1, 3])
        XCTAssertEqual(kim.winRateText, "66.7%")
        XCTAssertEqual(kim.wonValueText, "₩5,000,000")
        XCTAssertEqual(kim.accessibilityLabel, "rep-kim: 2 won, win rate 66.7%, won value ₩5,000,000")

        // Attainment: kim 5,000,000 of 4,000,000 = 125 %; the team 3 of 4 deals = 75 %.
        let quota = try XCTUnwrap(team.attainment.first { $0.title == "rep-kim · won value" })
        XCTAssertEqual(quota.attainmentText, "125%")
        XCTAssertEqual(quota.detailText, "₩5,000,000 of ₩4,000,000")
        XCTAssertEqual(quota.fraction, 1.25)
        let deals = try XCTUnwrap(team.attainment.first { $0.title == "team seoul · deals won" })
        XCTAssertEqual(deals.attainmentText, "75%")
        XCTAssertEqual(deals.detailText, "3 of 4")

        // Commission: 4,000,000 × 10 % + 1,000,000 × 15 % = 550,000.
        XCTAssertEqual(team.commission.map(\.rep), ["rep-kim"])
        XCTAssertEqual(team.commission.first?.commissionText, "₩550,000")
        XCTAssertEqual(team.commission.first?.baseText, "₩2,000,000")
        XCTAssertEqual(team.commission.first?.quotaText, "₩4,000,000")

        XCTAssertEqual(team.accessibilityLabel(.period(.week)), "Week, selected")
        XCTAssertEqual(team.accessibilityLabel(.funnelChart),
                       "Funnel chart: New 6, Contacted 4, Qualified 4, Proposal 4, Negotiation 3, Won 3")
    }

    /// A week later, this week's figures are the previous period's: each headline figure shows
    /// its fall. In Korean, with Korean number and currency formats.
    @MainActor
    func testNextWeekEachFigureShowsItsChangeAgainstThisWeekInKorean() async throws {
        let (core, now) = try await seededManager()
        let team = TeamViewModel(core: core, context: .korean(seoul, now: now.addingTimeInterval(7 * 86_400)))
        await team.load()
        XCTAssertEqual(team.previous?.period.start, seoulWeek(of: now).start)
        let figure = { (k: TeamFigure.Kind) in team.figures.first { $0.kind == k } }
        XCTAssertEqual(figure(.captured)?.label, "등록한 리드")
        XCTAssertEqual(figure(.captured)?.value, "0")
        XCTAssertEqual(figure(.captured)?.change?.text, "−6")
        XCTAssertEqual(figure(.captured)?.change?.trend, .down)
        XCTAssertEqual(figure(.captured)?.change?.better, false)
        XCTAssertEqual(figure(.captured)?.change?.accessibilityLabel, "이전 기간보다 6 감소")
        XCTAssertEqual(figure(.wonValue)?.value, "—")
        XCTAssertEqual(figure(.wonValue)?.change?.text, "−₩6,000,000")
        XCTAssertEqual(figure(.dealsWon)?.change?.text, "−3")
        XCTAssertEqual(team.funnel.first?.change?.text, "−6")
        XCTAssertNil(figure(.winRate)?.change, "no rate this week")
        // Only lee still has something in the pipeline; his won value fell from 1,000,000 to nothing.
        XCTAssertEqual(team.reps.map(\.owner), ["rep-lee"])
        XCTAssertEqual(team.reps.first?.captured, 0)
        XCTAssertEqual(team.reps.first?.wonValueChange?.text, "−₩1,000,000")

        // Switching the period reads again: this quarter holds the leads.
        let today = TeamViewModel(core: core, context: .korean(seoul, now: now))
        today.period = .quarter
        try await waitUntil { today.loadCount == 1 }
        XCTAssertEqual(today.accessibilityLabel(.period(.quarter)), "분기, 선택됨")
        XCTAssertEqual(today.figures.first { $0.kind == .captured }?.value, "6")
        XCTAssertEqual(today.figures.first { $0.kind == .wonValue }?.value, "₩6,000,000")
    }

    @MainActor
    func testChangesAreWordedForTheirKind() async throws {
        let core = try await openCore("mgr-park")
        let en = TeamViewModel(core: core, context: .english())
        let ko = TeamViewModel(core: core, context: .korean())
        let rate = ValueChange(current: 0.6, previous: 0.5, delta: 0.1, better: true)
        XCTAssertEqual(en.points(rate)?.text, "+10 pts")
        XCTAssertEqual(ko.points(rate)?.text, "+10%p")
        XCTAssertEqual(en.points(ValueChange(current: 0.45, previous: 0.5, delta: -0.05, better: false))?.text, "−5 pts")
        XCTAssertEqual(en.points(ValueChange(current: 0.5, previous: 0.5, delta: 0, better: nil))?.trend, .flat)
        XCTAssertNil(en.points(ValueChange(current: nil, previous: 0.5, delta: nil, better: nil)))
        XCTAssertEqual(en.count(CountChange(current: 5, previous: 2, delta: 3, better: true)).text, "+3")
        XCTAssertEqual(en.count(CountChange(current: 1, previous: 3, delta: -2, better: true)).better, true, "fewer lost deals: good news")
        XCTAssertEqual(en.count(CountChange(current: 0, previous: 0, delta: 0, better: nil)).text, "±0")
        XCTAssertEqual(ko.money(MoneyChange(currency: "KRW", current: 1_500_000, previous: 1_000_000, delta: 500_000, better: true)).text, "+₩500,000")
        XCTAssertEqual(en.money(MoneyChange(currency: "USD", current: 100, previous: 250, delta: -150, better: false)).text, "−$1.50")
        XCTAssertEqual(en.days(ValueChange(current: 12.5, previous: 10, delta: 2.5, better: false))?.text, "+2.5 days")
        XCTAssertEqual(ko.days(ValueChange(current: 9, previous: 10, delta: -1, better: true))?.text, "−1일")
        XCTAssertEqual(ko.days(ValueChange(current: 9, previous: 10, delta: -1, better: true))?.accessibilityLabel, "이전 기간보다 1일 감소")
    }
}
