import FieldSalesKit
import FieldSalesTestSupport
import Foundation
import XCTest

private let hour: Int64 = 3_600_000
private let day: Int64 = 24 * hour

/// The sales process, targets, plans and reports through the FFI: what a manager's and a rep's screens call.
final class SalesTests: XCTestCase {
    var dir: TempDir!

    override func setUpWithError() throws {
        dir = try TempDir()
    }

    override func tearDown() {
        dir = nil
    }

    /// A store that never enrolled: no role is known locally, so nothing is restricted.
    func open(_ user: String) throws -> FieldStore {
        try FieldStore.open(path: dir.path("\(user).db"), userId: user, region: "KR")
    }

    func testAStageRuleRefusesAMoveWithoutTheFieldAndARenamedStageReadsBack() async throws {
        let store = try open("mgr-park")
        let defaults = try store.salesSettings()
        XCTAssertEqual(defaults.stages.count, 7)
        let proposal = try XCTUnwrap(defaults.stages.first { $0.stage == .proposal })
        XCTAssertEqual(proposal.name, "proposal")
        XCTAssertEqual(proposal.probabilityBp, 6_000)
        XCTAssertEqual(proposal.required, [])

        _ = try store.setStage(stage: .proposal, patch: StagePatch(required: [.dealValue]))
        let lead = try store.createLead(draft: LeadDraft(name: "김민지", company: "Acme Korea"))
        let e = await expectError { try store.updateLead(id: lead.id, patch: LeadPatch(stage: .proposal)) }
        guard case .Validation(let m, let field)? = e else { return XCTFail("\(String(describing: e))") }
        XCTAssertEqual(m, "stage 'proposal' needs a deal value")
        XCTAssertEqual(field, .dealValue, "the rule names the field the stage needs")
        XCTAssertEqual(e?.message, m)
        XCTAssertEqual(try store.lead(id: lead.id).stage, .new, "nothing was written")

        let renamed = try store.setStage(stage: .proposal, patch: StagePatch(name: "  Quote sent ", probabilityBp: 5_000))
        let e2 = await expectError { try store.updateLead(id: lead.id, patch: LeadPatch(stage: .proposal)) }
        guard case .Validation(let m2, _)? = e2 else { return XCTFail("\(String(describing: e2))") }
        XCTAssertEqual(m2, "stage 'Quote sent' needs a deal value")
        let moved = try store.updateLead(id: lead.id, patch: LeadPatch(stage: .proposal, dealValue: krw(1_500_000)))
        XCTAssertEqual(moved.stage, .proposal)

        let read = try store.salesSettings()
        XCTAssertEqual(read, renamed)
        let p = try XCTUnwrap(read.stages.first { $0.stage == .proposal })
        XCTAssertEqual(p.name, "Quote sent")
        XCTAssertEqual(p.probabilityBp, 5_000)
        XCTAssertEqual(p.required, [.dealValue])
        XCTAssertEqual(read.stages.first { $0.stage == .contacted }?.name, "contacted", "other stages untouched")

        let bad = await expectError { try store.setStage(stage: .new, patch: StagePatch(probabilityBp: 10_001)) }
        guard case .Validation(let b, _)? = bad else { return XCTFail("\(String(describing: bad))") }
        XCTAssertEqual(b, "win probability has an invalid value: at most 100%")
    }

    func testAManagerSetsListsAndDeletesTargetsAndSetsAPlanAndARepIsRefused() async throws {
        let store = try open("mgr-park")
        let start = T0
        let end = T0 + 7 * day
        let t = try store.setTarget(draft: TargetDraft(subjectKind: .rep, subject: " rep-kim ", metric: .wonValue,
                                                       periodStart: start, periodEnd: end, value: 4_000_000, currency: "krw"))
        XCTAssertEqual(t.subject, "rep-kim")
        XCTAssertEqual(t.currency, "KRW")
        XCTAssertEqual(t.createdBy, "mgr-park")
        let again = try store.setTarget(draft: TargetDraft(subjectKind: .rep, subject: "rep-kim", metric: .wonValue,
                                                           periodStart: start, periodEnd: end, value: 5_000_000, currency: "KRW"))
        XCTAssertEqual(again.id, t.id, "the same subject, metric and period: the same target")
        let team = try store.setTarget(draft: TargetDraft(subjectKind: .team, subject: "seoul", metric: .dealsWon,
                                                          periodStart: start, periodEnd: end, value: 10))
        XCTAssertEqual(Set(try store.targets(fromMs: start, toMs: end).map(\.id)), [t.id, team.id])
        XCTAssertEqual(try store.targets(fromMs: start, toMs: end).first { $0.id == t.id }?.value, 5_000_000)
        XCTAssertEqual(try store.targets(fromMs: end, toMs: end + day), [], "no overlap")
        let noCurrency = await expectError {
            try store.setTarget(draft: TargetDraft(subjectKind: .rep, subject: "rep-kim", metric: .wonValue,
                                                   periodStart: start, periodEnd: end, value: 1))
        }
        guard case .Validation(let nc, _)? = noCurrency else { return XCTFail("\(String(describing: noCurrency))") }
        XCTAssertEqual(nc, "target has an invalid value: a won value target needs a currency")

        XCTAssertTrue(try store.deleteTarget(id: team.id).deleted)
        XCTAssertEqual(try store.targets(fromMs: start, toMs: end).map(\.id), [t.id])
        let missing = await expectError { try store.deleteTarget(id: "00000000-0000-4000-8000-000000000000") }
        guard case .NotFound? = missing else { return XCTFail("\(String(describing: missing))") }

        let plan = try store.setPlan(draft: CompPlanDraft(rep: "rep-kim", base: krw(2_000_000), rateBp: 1_000,
                                                          tiers: [Tier(fromBp: 15_000, rateBp: 2_000), Tier(fromBp: 10_000, rateBp: 1_500)]))
        XCTAssertEqual(plan.tiers.map(\.fromBp), [10_000, 15_000], "sorted")
        let edited = try store.setPlan(draft: CompPlanDraft(rep: "rep-kim", base: krw(2_500_000), rateBp: 1_200))
        XCTAssertEqual(edited.id, plan.id, "one plan per rep")
        XCTAssertEqual(try store.plans(), [edited])
        XCTAssertEqual(try store.plans().first?.tiers, [])

        // A rep's device, enrolled as a rep: the role is known locally and the core refuses.
        let rep = try open("rep-kim")
        try rep.saveCredentials(credentials: Credentials(server: "http://127.0.0.1:9", deviceId: "d1", token: "t", userId: "rep-kim",
                                                         workspaceId: "w", role: "rep"))
        let f = await expectError {
            try rep.setTarget(draft: TargetDraft(subjectKind: .rep, subject: "rep-kim", metric: .dealsWon,
                                                 periodStart: start, periodEnd: end, value: 99))
        }
        guard case .Forbidden(let fm)? = f else { return XCTFail("\(String(describing: f))") }
        XCTAssertEqual(fm, "not allowed: only managers and admins may set targets")
        XCTAssertEqual(f?.message, fm)
        let s = await expectError { try rep.setStage(stage: .won, patch: StagePatch(name: "Closed")) }
        guard case .Forbidden(let sm)? = s else { return XCTFail("\(String(describing: s))") }
        XCTAssertEqual(sm, "not allowed: only managers and admins may change the sales process")
        let pl = await expectError { try rep.setPlan(draft: CompPlanDraft(rep: "rep-kim", base: krw(1), rateBp: 10_000)) }
        guard case .Forbidden? = pl else { return XCTFail("\(String(describing: pl))") }
        XCTAssertEqual(try rep.salesSettings().stages.first { $0.stage == .won }?.name, "won", "reading is for everyone")
    }

    func testTheTeamReportAndMyReportOverASmallFixture() async throws {
        let store = try open("mgr-park")
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let start = now - day
        let end = now + day
        // rep-kim: won 3,000,000 and 2,000,000, lost one. rep-lee: won 1,000,000. mgr-park: lost one. One open.
        _ = try store.createLeads(drafts: teamFixture)
        // Quota 4,000,000 for exactly the report's period; the team target counts deals won.
        _ = try store.setTarget(draft: TargetDraft(subjectKind: .rep, subject: "rep-kim", metric: .wonValue,
                                                   periodStart: start, periodEnd: end, value: 4_000_000, currency: "KRW"))
        _ = try store.setTarget(draft: TargetDraft(subjectKind: .team, subject: "seoul", metric: .dealsWon,
                                                   periodStart: start, periodEnd: end, value: 4))
        // 10 % up to the quota, 15 % above it.
        _ = try store.setPlan(draft: CompPlanDraft(rep: "rep-kim", base: krw(2_000_000), rateBp: 1_000, tiers: [Tier(fromBp: 10_000, rateBp: 1_500)]))

        let r = try store.teamReport(period: .custom(startMs: start, endMs: end), nowMs: now, timeZone: "Asia/Seoul")
        XCTAssertEqual(r.period.start, start)
        XCTAssertEqual(r.period.end, end)
        // Team: 3 won, 2 lost → 3 / 5 = 60 %.
        XCTAssertEqual(r.team.winRate.won, 3)
        XCTAssertEqual(r.team.winRate.lost, 2)
        XCTAssertEqual(try XCTUnwrap(r.team.winRate.rate), 0.6, accuracy: 1e-9)
        XCTAssertEqual(r.team.captured, 6)
        XCTAssertEqual(r.team.wonValue, [krw(6_000_000)])
        XCTAssertEqual(r.reps.map(\.owner), ["mgr-park", "rep-kim", "rep-lee"])
        let kim = try XCTUnwrap(r.reps.first { $0.owner == "rep-kim" }).figures
        XCTAssertEqual(kim.winRate.won, 2)
        XCTAssertEqual(kim.winRate.lost, 1)
        XCTAssertEqual(try XCTUnwrap(kim.winRate.rate), 2.0 / 3.0, accuracy: 1e-9)
        XCTAssertEqual(try XCTUnwrap(r.reps.first { $0.owner == "rep-lee" }?.figures.winRate.rate), 1.0, accuracy: 1e-9)
        // Weighted pipeline with the workspace's probability: 500,000 × 60 % = 300,000.
        let proposal = try XCTUnwrap(r.team.pipeline.first { $0.stage == .proposal })
        XCTAssertEqual(proposal.leads, 1)
        XCTAssertEqual(proposal.weighted, [krw(300_000)])
        XCTAssertEqual(r.stages.count, 7)

        // Attainment: 5,000,000 of 4,000,000 = 125 %; half the period elapsed → 2,000,000 expected, pace 250 %.
        let quota = try XCTUnwrap(r.attainment.first { $0.target.metric == .wonValue })
        XCTAssertEqual(quota.progress.actual, 5_000_000)
        XCTAssertEqual(quota.progress.attainmentBp, 12_500)
        XCTAssertEqual(quota.progress.elapsedBp, 5_000)
        XCTAssertEqual(quota.progress.expected, 2_000_000)
        XCTAssertEqual(quota.progress.paceBp, 25_000)
        // The team target: 3 of 4 deals = 75 %.
        XCTAssertEqual(r.attainment.first { $0.target.metric == .dealsWon }?.progress.attainmentBp, 7_500)

        // Commission: 4,000,000 × 10 % + 1,000,000 × 15 % = 400,000 + 150,000 = 550,000 KRW.
        XCTAssertEqual(r.commission.count, 1)
        let c = try XCTUnwrap(r.commission.first)
        XCTAssertEqual(c.rep, "rep-kim")
        XCTAssertEqual(c.base, krw(2_000_000))
        XCTAssertEqual(c.quota, [krw(4_000_000)])
        XCTAssertEqual(c.wonValue, [krw(5_000_000)])
        XCTAssertEqual(c.commission, [krw(550_000)])
        XCTAssertEqual(c.deals.count, 2)
        XCTAssertEqual(c.deals.map(\.parts.count).reduce(0, +), 3, "one deal straddles the quota")
        for d in c.deals {
            XCTAssertEqual(d.parts.map(\.amount).reduce(0, +), d.amount)
        }
        XCTAssertEqual(c.deals.flatMap(\.parts).filter { $0.rateBp == 1_500 }.map(\.amount).reduce(0, +), 1_000_000)

        // My report: the manager's own lead only; neither the team's nor kim's targets and plan.
        let mine = try store.myReport(period: .custom(startMs: start, endMs: end), nowMs: now, timeZone: "Asia/Seoul")
        XCTAssertEqual(mine.team.winRate.won, 0)
        XCTAssertEqual(mine.team.winRate.lost, 1)
        XCTAssertEqual(mine.team.winRate.rate, 0.0)
        XCTAssertEqual(mine.reps.map(\.owner), ["mgr-park"])
        XCTAssertEqual(mine.attainment, [])
        XCTAssertEqual(mine.commission, [])

        // Calendar periods: the local week of T0 (a Monday 09:00 UTC = 18:00 in Seoul) starts that Monday 00:00 KST.
        let week = try store.teamReport(period: .week, nowMs: T0, timeZone: "Asia/Seoul")
        XCTAssertEqual(week.period.start, T0 - 18 * hour)
        XCTAssertEqual(week.period.end - week.period.start, 7 * day)
        XCTAssertNil(week.team.winRate.rate, "nothing closed that week")
        let month = try store.myReport(period: .month, nowMs: T0, timeZone: "UTC").period
        XCTAssertEqual(month.start, T0 - day - 9 * hour, "2026-11-01 00:00 UTC")
        XCTAssertEqual(month.end - month.start, 30 * day)
        let badRange = await expectError { try store.teamReport(period: .custom(startMs: end, endMs: start), nowMs: now, timeZone: "UTC") }
        guard case .Validation(let br, _)? = badRange else { return XCTFail("\(String(describing: badRange))") }
        XCTAssertEqual(br, "period has an invalid value: the end must be after the start")
    }
}
