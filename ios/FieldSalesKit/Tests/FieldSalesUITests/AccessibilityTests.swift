import FieldSalesKit
import FieldSalesTestSupport
@testable import FieldSalesUI
import Foundation
import XCTest

/// Every control of every screen has a label a screen reader reads, in English and in Korean.
/// The SwiftUI views set exactly these (`.accessibilityLabel(model.accessibilityLabel(…))`).
final class AccessibilityTests: ViewModelTestCase {
    @MainActor
    func testEveryControlHasALabelInBothLanguages() async throws {
        let core = try await openCore()
        let lead = try await core.createLead(LeadDraft(name: "김민지", company: "Acme Korea"))
        let task = try await core.addActivity(ActivityDraft(leadId: lead.id, kind: .task, subject: "견적", dueAt: T0))
        var labels: [String: [String]] = [:]  // control → [en, ko]

        for context in [UIContext.english(now: mondayT0), .korean(now: mondayT0)] {
            func add(_ name: String, _ label: String) { labels[name, default: []].append(label) }

            let leads = LeadsViewModel(core: core, context: context)
            await leads.settled()
            var leadControls: [LeadsViewModel.Control] = [.search, .sort, .clearFilters, .capture, .eventChip("Seoul Expo"), .tagChip("vip")]
            leadControls += Stage.allInOrder.map { .stageChip($0) } + [Potential.hot, .warm, .cold].map { .potentialChip($0) }
            for c in leadControls { add("leads.\(c)", leads.accessibilityLabel(c)) }
            add("leads.row", try XCTUnwrap(leads.rows.first).accessibilityLabel)

            let capture = CaptureViewModel(core: core, context: context)
            var captureControls: [CaptureViewModel.Control] = [.addTag, .removeTag("vip"), .paste, .scan, .save, .saveAnyway, .openDuplicate]
            captureControls += LeadFormField.allCases.map { .field($0) } + [Potential.hot, .warm, .cold].map { .potential($0) }
            for c in captureControls { add("capture.\(c)", capture.accessibilityLabel(c)) }

            let detail = LeadDetailViewModel(core: core, context: context, leadId: lead.id)
            await detail.load()
            var detailControls: [LeadDetailViewModel.Control] = [.advance, .dealValue, .lostReason, .complete(task.id), .followUp, .clearFollowUp]
            detailControls += Stage.allInOrder.map { .stage($0) } + [ActivityKind.call, .meeting, .visit, .task, .note].map { .log($0) }
            for c in detailControls { add("detail.\(c)", detail.accessibilityLabel(c)) }
            for item in detail.timeline { add("detail.timeline", item.accessibilityLabel) }

            let today = TodayViewModel(core: core, context: context)
            await today.load()
            let item = try XCTUnwrap(today.sections.first?.items.first)
            add("today.item", item.accessibilityLabel)
            add("today.complete", today.accessibilityLabel(completing: item))

            let sync = SyncViewModel(core: core, context: context) {}
            await sync.load()
            for c in [SyncViewModel.Control.sync, .cancel, .progress, .signOut, .confirmSignOut, .cancelSignOut] {
                add("sync.\(c)", sync.accessibilityLabel(c))
            }

            let team = TeamViewModel(core: core, context: context)
            await team.load()
            for c in TeamPeriod.allCases.map(TeamViewModel.Control.period) + [.funnelChart, .attainmentChart] {
                add("team.\(c)", team.accessibilityLabel(c))
            }
            for f in team.figures { add("team.figure.\(f.kind)", f.accessibilityLabel) }

            let enroll = EnrollViewModel(context: context, deviceName: "x") { _, _, _ in }
            for c in EnrollViewModel.Control.allCases { add("enroll.\(c)", enroll.accessibilityLabel(c)) }
        }

        XCTAssertGreaterThan(labels.count, 60)
        for (control, pair) in labels {
            XCTAssertEqual(pair.count, 2, control)
            XCTAssertFalse(pair.contains { $0.trimmingCharacters(in: .whitespaces).isEmpty }, "\(control): \(pair)")
            XCTAssertFalse(pair.contains { $0.contains("{") }, "a placeholder left unfilled: \(control): \(pair)")
        }
        // Translated: apart from labels that are only names, the Korean differs from the English.
        let translated = labels.filter { $0.value[0] != $0.value[1] }
        XCTAssertGreaterThan(translated.count, labels.count * 9 / 10, "\(labels.filter { $0.value[0] == $0.value[1] })")
        XCTAssertEqual(labels["capture.save"], ["Save lead", "리드 저장"])
        XCTAssertEqual(labels["leads.row"], ["김민지, Acme Korea, New, not synced yet", "김민지, Acme Korea, 신규, 아직 동기화되지 않음"])
        XCTAssertEqual(labels["detail.stage(FieldSalesCore.Stage.new)"], ["New, current stage", "신규, 현재 단계"])
    }
}
