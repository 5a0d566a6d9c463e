import FieldSalesKit
import FieldSalesTestSupport
@testable import FieldSalesUI
import Foundation
import XCTest

final class TodayViewModelTests: ViewModelTestCase {
    /// Now is Monday 09:00 UTC: 18:00 in Seoul, 04:00 in New York. A task due Tuesday 01:00 UTC
    /// is tomorrow for a rep in Seoul (10:00) and tonight for one in New York (20:00).
    @MainActor
    func testTodayIsTheRepsDayInTheirOwnTimeZone() async throws {
        let core = try await openCore()
        let kim = try await core.createLead(LeadDraft(name: "김민지", nextFollowUp: T0 - 3_600_000))
        let lee = try await core.createLead(LeadDraft(name: "이영희"))
        _ = try await core.addActivity(ActivityDraft(leadId: lee.id, kind: .task, subject: "견적 보내기", dueAt: T0 + 16 * 3_600_000))
        let done = try await core.addActivity(ActivityDraft(leadId: lee.id, kind: .task, subject: "샘플 발송", dueAt: T0 + 3_600_000))

        let inSeoul = TodayViewModel(core: core, context: .korean(seoul, now: mondayT0))
        await inSeoul.load()
        XCTAssertEqual(inSeoul.dateTitle, "11월 2일 월요일")
        XCTAssertEqual(inSeoul.sections.map(\.kind), [.overdue, .today, .upcoming])
        XCTAssertEqual(inSeoul.sections.map(\.title), ["기한 지남", "오늘", "앞으로 7일"])
        let overdue = inSeoul.sections[0].items
        XCTAssertEqual(overdue.map(\.title), ["김민지 후속 연락"])
        XCTAssertEqual(overdue.first?.leadId, kim.id)
        XCTAssertEqual(overdue.first?.dueText, "2026년 11월 2일 오후 5:00")
        XCTAssertEqual(overdue.first?.accessibilityLabel, "김민지 후속 연락, 2026년 11월 2일 오후 5:00부터 기한 지남")
        XCTAssertEqual(inSeoul.sections[1].items.map(\.title), ["샘플 발송"])
        XCTAssertEqual(inSeoul.sections[1].items.first?.dueText, "오후 7:00", "today: the time alone")
        XCTAssertEqual(inSeoul.sections[1].items.first?.subtitle, "이영희")
        XCTAssertEqual(inSeoul.sections[2].items.map(\.title), ["견적 보내기"])
        XCTAssertEqual(inSeoul.sections[2].items.first?.dueText, "2026년 11월 3일 오전 10:00")

        let inNewYork = TodayViewModel(core: core, context: .english(newYork, now: mondayT0))
        await inNewYork.load()
        XCTAssertEqual(inNewYork.dateTitle, "Monday, November 2")
        XCTAssertEqual(inNewYork.sections.map(\.kind), [.overdue, .today])
        XCTAssertEqual(inNewYork.sections[1].items.map(\.title), ["샘플 발송", "견적 보내기"])
        XCTAssertEqual(inNewYork.sections[1].items.map(\.dueText), ["5:00\u{202F}AM", "8:00\u{202F}PM"], "ICU puts a narrow no-break space before AM/PM")
        XCTAssertEqual(inNewYork.sections[0].items.first?.title, "Follow up with 김민지")

        // Done tasks leave the list.
        let item = try XCTUnwrap(inSeoul.sections[1].items.first { $0.activityId == done.id })
        XCTAssertEqual(inSeoul.accessibilityLabel(completing: item), "완료로 표시: 샘플 발송")
        await inSeoul.complete(item)
        XCTAssertEqual(inSeoul.sections.map(\.kind), [.overdue, .upcoming])
        XCTAssertNil(inSeoul.emptyText)
    }

    @MainActor
    func testNothingDueSaysSo() async throws {
        let core = try await openCore()
        let today = TodayViewModel(core: core, context: .english(now: mondayT0))
        await today.load()
        XCTAssertEqual(today.sections, [])
        XCTAssertEqual(today.emptyText, "Nothing due. Enjoy the day.")
    }
}
