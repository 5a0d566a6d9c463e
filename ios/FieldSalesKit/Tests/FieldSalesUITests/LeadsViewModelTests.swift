import FieldSalesKit
import FieldSalesTestSupport
@testable import FieldSalesUI
import Foundation
import XCTest

final class LeadsViewModelTests: ViewModelTestCase {
    @MainActor
    func testACapturedKoreanLeadIsInTheListAndFoundByKimMin() async throws {
        let core = try await openCore()
        _ = try await core.createLead(LeadDraft(name: "김철수", company: "Hanbit"))
        _ = try await core.createLead(LeadDraft(name: "이민호", company: "Globex"))
        let list = LeadsViewModel(core: core, context: .korean())
        await list.settled()
        XCTAssertEqual(list.rows.count, 2)

        let capture = CaptureViewModel(core: core, context: .korean())
        capture.name = "김민지"
        capture.company = "Acme Korea"
        capture.phone = "010-1234-5678"
        capture.email = "minji@acme.co.kr"
        capture.tapPotential(.hot)
        let saved = await capture.save()
        XCTAssertTrue(saved, "\(capture.fieldErrors) \(capture.formError ?? "")")

        // The list hears of the write through the store's observer.
        try await waitUntil { list.rows.count == 3 }
        let row = try XCTUnwrap(list.rows.first)
        XCTAssertEqual(row.title, "김민지", "newest first")
        XCTAssertEqual(row.subtitle, "Acme Korea")
        XCTAssertEqual(row.stageText, "신규")
        XCTAssertEqual(row.potentialText, "높음")
        XCTAssertTrue(row.isUnsynced, "captured here, not on a server yet")
        XCTAssertFalse(row.hasConflicts)
        XCTAssertEqual(row.accessibilityLabel, "김민지, Acme Korea, 신규, 높음, 아직 동기화되지 않음")

        list.searchText = "김"
        list.searchText = "김민"
        await list.settled()
        XCTAssertEqual(list.rows.map(\.title), ["김민지"], "'김민' is a prefix of 김민지 only, not of 김철수 or 이민호")
        list.searchText = "민"
        await list.settled()
        XCTAssertEqual(list.rows.map(\.title), [], "a prefix, not a substring: 민 starts no word")
        XCTAssertEqual(list.emptyText, "“민”에 맞는 리드가 없습니다.")
        list.searchText = "acme"
        await list.settled()
        XCTAssertEqual(list.rows.map(\.title), ["김민지"])
        list.searchText = ""
        await list.settled()
        XCTAssertEqual(list.rows.count, 3)
    }

    @MainActor
    func testTheListLoadsAPageAtATimeAsTheRepScrolls() async throws {
        let core = try await openCore()
        _ = try await core.kit.createLeads((0..<120).map { LeadDraft(name: String(format: "리드 %03d", $0)) })
        let list = LeadsViewModel(core: core, context: .english(), pageSize: 50)
        list.sort = .name
        await list.settled()
        XCTAssertEqual(list.rows.count, 50, "the first page only")
        XCTAssertTrue(list.hasMore)
        XCTAssertEqual(list.rows.first?.title, "리드 000")

        list.rowAppeared(list.rows[20].id)
        await list.settled()
        XCTAssertEqual(list.rows.count, 50, "far from the end: no new page")
        list.rowAppeared(list.rows[45].id)
        await list.settled()
        XCTAssertEqual(list.rows.count, 100)
        list.rowAppeared(try XCTUnwrap(list.rows.last).id)
        await list.settled()
        XCTAssertEqual(list.rows.count, 120)
        XCTAssertFalse(list.hasMore)
        XCTAssertEqual(list.rows.map(\.title), (0..<120).map { String(format: "리드 %03d", $0) }, "in order, none twice")
        list.loadMore()
        await list.settled()
        XCTAssertEqual(list.rows.count, 120, "nothing after the last page")
    }

    @MainActor
    func testFiltersAndSortNarrowAndOrderTheList() async throws {
        let core = try await openCore()
        _ = try await core.createLead(LeadDraft(name: "Kim", event: "Seoul Expo", stage: .qualified, potential: .hot, tags: ["vip"]))
        _ = try await core.createLead(LeadDraft(name: "Lee", event: "Seoul Expo", stage: .new, potential: .cold))
        _ = try await core.createLead(LeadDraft(name: "Park", event: "Busan Fair", stage: .qualified, potential: .hot,
                                                dealValue: Money(amountMinor: 2_500_000, currency: "KRW")))
        let list = LeadsViewModel(core: core, context: .english())
        list.sort = .name
        await list.settled()
        XCTAssertEqual(list.rows.map(\.title), ["Kim", "Lee", "Park"])
        await list.facetsSettled()
        XCTAssertEqual(list.eventOptions.map(\.value), ["Seoul Expo", "Busan Fair"], "the filter's choices, most used first")
        XCTAssertEqual(list.eventOptions.map(\.count), ["2", "1"])
        XCTAssertEqual(list.tagOptions.map(\.value), ["vip"])
        XCTAssertEqual(list.accessibilityLabel(.eventChip("Busan Fair")), "Filter Event Busan Fair, off")

        list.toggleStage(.qualified)
        await list.settled()
        XCTAssertEqual(list.rows.map(\.title), ["Kim", "Park"])
        XCTAssertEqual(list.accessibilityLabel(.stageChip(.qualified)), "Filter Qualified, on")
        XCTAssertEqual(list.accessibilityLabel(.stageChip(.new)), "Filter New, off")
        list.filters.event = "Seoul Expo"
        await list.settled()
        XCTAssertEqual(list.rows.map(\.title), ["Kim"])
        list.filters = LeadFilters(tag: "vip")
        await list.settled()
        XCTAssertEqual(list.rows.map(\.title), ["Kim"])
        list.filters = LeadFilters(potential: .hot)
        list.sort = .value
        await list.settled()
        XCTAssertEqual(list.rows.map(\.title), ["Park", "Kim"], "largest deal first")
        XCTAssertEqual(list.rows.first?.valueText, "₩2,500,000")

        // Search keeps the filters: "Park" is hot, "Lee" is not.
        list.searchText = "l"
        await list.settled()
        XCTAssertEqual(list.rows.map(\.title), [])
        XCTAssertEqual(list.emptyText, "Nothing matches “l”.")
        list.clearFilters()
        await list.settled()
        XCTAssertEqual(list.rows.map(\.title), ["Lee"])
        list.searchText = ""
        list.filters = LeadFilters(stages: [.won])
        await list.settled()
        XCTAssertEqual(list.emptyText, "No leads match these filters.")
    }
}
