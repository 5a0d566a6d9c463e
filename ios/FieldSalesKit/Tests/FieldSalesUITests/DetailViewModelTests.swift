import FieldSalesKit
import FieldSalesTestSupport
@testable import FieldSalesUI
import Foundation
import XCTest

final class DetailViewModelTests: ViewModelTestCase {
    @MainActor
    func testTheStageStepperShowsTheRulesMessageAtTheDealValueAndMovesOnceItIsTyped() async throws {
        let core = try await openCore("mgr-park")
        _ = try core.kit.store.setStage(stage: .proposal, patch: StagePatch(name: "Quote sent", required: [.dealValue]))
        let lead = try await core.createLead(LeadDraft(name: "김민지", company: "Acme Korea", stage: .qualified))
        let detail = LeadDetailViewModel(core: core, context: .english(), leadId: lead.id)
        await detail.load()
        XCTAssertEqual(detail.title, "김민지")
        XCTAssertEqual(detail.stageSteps.map(\.name), ["New", "Contacted", "Qualified", "Quote sent", "Negotiation", "Won", "Lost"])
        XCTAssertEqual(detail.stageSteps.filter(\.isPassed).map(\.stage), [.new, .contacted])
        XCTAssertEqual(detail.stageSteps.first { $0.isCurrent }?.stage, .qualified)
        XCTAssertEqual(detail.accessibilityLabel(.stage(.proposal)), "Quote sent, needs Deal value")
        XCTAssertEqual(detail.nextStage, .proposal)
        XCTAssertEqual(detail.dealCurrency, "KRW", "the region's currency")

        let refused = await detail.advance()
        XCTAssertFalse(refused)
        XCTAssertEqual(detail.fieldErrors, [.dealValue: "stage 'Quote sent' needs a deal value"])
        XCTAssertNil(detail.errorText)
        XCTAssertEqual(detail.accessibilityLabel(.dealValue), "Deal value, error: stage 'Quote sent' needs a deal value")
        let unchanged = try await core.kit.lead(lead.id)
        XCTAssertEqual(unchanged.stage, .qualified)

        detail.dealValueText = "1,500,000"
        XCTAssertEqual(detail.fieldErrors, [:], "typing clears the message")
        let moved = await detail.advance()
        XCTAssertTrue(moved)
        XCTAssertEqual(detail.lead?.stage, .proposal)
        XCTAssertEqual(detail.lead?.dealValue, Money(amountMinor: 1_500_000, currency: "KRW"))
        XCTAssertTrue(detail.fields.contains(DetailField(label: "Deal value", value: "₩1,500,000")))
        XCTAssertEqual(detail.dealValueText, "")

        // Lost asks for a reason; the reason goes with the move.
        detail.lostReasonText = "budget cut"
        let lost = await detail.moveTo(.lost)
        XCTAssertTrue(lost)
        XCTAssertEqual(detail.lead?.lostReason, "budget cut")
        XCTAssertNil(detail.nextStage, "lost is chosen, not stepped past")
    }

    @MainActor
    func testTheTimelineLogsEachKindAndTheFollowUpDateIsSet() async throws {
        let now = mondayT0
        let core = try await openCore()
        let lead = try await core.createLead(LeadDraft(name: "이영희"))
        let detail = LeadDetailViewModel(core: core, context: .korean(now: now), leadId: lead.id)
        await detail.load()
        XCTAssertEqual(detail.timeline, [])
        XCTAssertEqual(detail.logKinds.map(\.1), ["통화 기록", "미팅 기록", "방문 기록", "할 일 기록", "메모 기록"])

        let called = await detail.log(.call, subject: "첫 통화")
        XCTAssertTrue(called)
        _ = await detail.log(.meeting, subject: "")
        _ = await detail.log(.visit, subject: "공장 방문", notes: "샘플 전달")
        _ = await detail.log(.note, subject: "예산 확인")
        _ = await detail.log(.task, subject: "견적 보내기", dueAt: T0 + 86_400_000)
        XCTAssertEqual(Set(detail.timeline.map(\.kind)), [.call, .meeting, .visit, .note, .task])
        XCTAssertEqual(detail.timeline.first { $0.kind == .meeting }?.subject, "미팅", "an empty subject names the kind")
        let task = try XCTUnwrap(detail.timeline.first { $0.kind == .task })
        XCTAssertTrue(task.isOpenTask)
        XCTAssertEqual(task.whenText, "2026년 11월 3일 오후 6:00까지", "due the next day, 18:00 in Seoul")
        let call = try XCTUnwrap(detail.timeline.first { $0.kind == .call })
        XCTAssertEqual(call.whenText, "2026년 11월 2일 오후 6:00")
        XCTAssertEqual(call.accessibilityLabel, "통화, 첫 통화, 2026년 11월 2일 오후 6:00")
        let stored = try core.kit.store.activitiesForLead(leadId: lead.id)
        XCTAssertEqual(stored.count, 5)
        XCTAssertTrue(stored.filter { $0.kind != .task }.allSatisfy { $0.done && $0.occurredAt == T0 })

        await detail.complete(task.id)
        XCTAssertEqual(detail.timeline.first { $0.id == task.id }?.isOpenTask, false)

        XCTAssertNil(detail.followUpText)
        XCTAssertEqual(detail.accessibilityLabel(.followUp), "후속 연락일 설정")
        let set = await detail.setFollowUp(T0 + 2 * 86_400_000)
        XCTAssertTrue(set)
        XCTAssertEqual(detail.followUpText, "2026년 11월 4일 오후 6:00")
        XCTAssertEqual(detail.accessibilityLabel(.followUp), "후속 연락일 2026년 11월 4일 오후 6:00")
        _ = await detail.setFollowUp(nil)
        XCTAssertNil(detail.followUpText)
        let cleared = try await core.kit.lead(lead.id)
        XCTAssertNil(cleared.nextFollowUp)
    }

    /// Kim edits the same lead's company on her phone and her tablet offline; after syncing
    /// through the real server both devices show a conflict. One tap on the tablet resolves it,
    /// the list's mark goes, and the phone gets the choice at its next sync.
    @MainActor
    func testAConflictIsResolvedInOneTapAndTheMarkGoes() async throws {
        let phoneSession = try await enrolledSession("kim", code: 1, file: "phone.db")
        let tabletSession = try await enrolledSession("kim", code: 2, file: "tablet.db")
        let phone = try XCTUnwrap(phoneSession.core), tablet = try XCTUnwrap(tabletSession.core)
        let lead = try await phone.createLead(LeadDraft(name: "김민지", company: "Acme"))
        _ = try await phone.kit.sync()
        _ = try await tablet.kit.sync()
        _ = try await phone.updateLead(lead.id, LeadPatch(company: "Acme Korea"))
        _ = try await tablet.updateLead(lead.id, LeadPatch(company: "ACME Seoul"))
        _ = try await phone.kit.sync()
        _ = try await tablet.kit.sync()

        let list = tabletSession.leadsModel(tablet)
        await list.settled()
        let row = try XCTUnwrap(list.rows.first { $0.id == lead.id })
        XCTAssertTrue(row.hasConflicts)
        XCTAssertTrue(row.accessibilityLabel.contains("two values entered"), row.accessibilityLabel)

        let detail = tabletSession.detailModel(tablet, leadId: lead.id)
        await detail.load()
        let conflict = try XCTUnwrap(detail.conflicts.first)
        XCTAssertEqual(detail.conflicts.count, 1)
        XCTAssertEqual(conflict.field, "company")
        XCTAssertEqual(conflict.fieldLabel, "Company")
        XCTAssertEqual(Set(conflict.values.map(\.shown)), ["Acme Korea", "ACME Seoul"])
        XCTAssertEqual(conflict.values.first?.accessibilityLabel, "Keep \(conflict.values[0].shown) as Company")

        let korea = try XCTUnwrap(conflict.values.first { $0.shown == "Acme Korea" })
        XCTAssertEqual(detail.accessibilityLabel(.keep(field: "company", choice: korea.choice)), "Keep Acme Korea as Company")
        let tapped = await detail.resolve("company", choice: korea.choice)
        XCTAssertTrue(tapped)
        XCTAssertEqual(detail.conflicts, [])
        XCTAssertEqual(detail.lead?.company, "Acme Korea")
        try await waitUntil { list.rows.first { $0.id == lead.id }?.hasConflicts == false }

        _ = try await tablet.kit.sync()
        _ = try await phone.kit.sync()
        let onPhone = try await phone.kit.lead(lead.id)
        XCTAssertEqual(onPhone.company, "Acme Korea")
        XCTAssertEqual(onPhone.conflicts, [], "the choice reached the other device")
    }
}
