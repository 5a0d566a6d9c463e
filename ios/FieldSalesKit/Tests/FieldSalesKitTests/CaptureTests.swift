import FieldSalesKit
import FieldSalesTestSupport
import Foundation
import XCTest

/// Capture helpers, duplicates and CSV import through the FFI: the calls a booth app makes.
final class CaptureTests: XCTestCase {
    var dir: TempDir!

    override func setUpWithError() throws {
        dir = try TempDir()
    }

    override func tearDown() {
        dir = nil
    }

    func open() throws -> FieldStore {
        try FieldStore.open(path: dir.path("rep.db"), userId: "rep-kim", region: "KR")
    }

    func vcard(_ name: String, _ email: String, _ org: String) -> String {
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:\(name)\r\nORG:\(org)\r\nEMAIL;TYPE=work:\(email)\r\nTEL;TYPE=cell:010-1234-5678\r\nEND:VCARD\r\n"
    }

    func testABadgeQrCodeBecomesADraftAndANonContactIsATypedError() async throws {
        let store = try open()
        let scan = try store.parseQr(text: vcard("김민지", "MinJi@Acme.co.kr", "Acme Korea"))
        XCTAssertEqual(scan.draft.name, "김민지")
        XCTAssertEqual(scan.draft.company, "Acme Korea")
        XCTAssertEqual(scan.draft.channel, .badgeScan)
        XCTAssertTrue(scan.confidence.contains { $0.field == "name" && $0.confidence == 1.0 }, "\(scan.confidence)")
        let lead = try store.createLead(draft: scan.draft)
        XCTAssertEqual(lead.emails, ["minji@acme.co.kr"])
        XCTAssertEqual(lead.phones, ["+821012345678"])

        let bad = await expectError { try store.parseQr(text: "\u{1}\u{2} WIFI:S:booth;;") }
        guard case .UnreadableCode(let m)? = bad else { return XCTFail("\(String(describing: bad))") }
        XCTAssertFalse(m.isEmpty)
        XCTAssertEqual(try store.listLeads(query: LeadQuery(sort: .updated)).items.count, 1, "a failed scan writes nothing")
    }

    func testBusinessCardTextGivesABestEffortDraftWithConfidences() throws {
        let store = try open()
        let card = store.parseCardText(text: "Park Jisoo\nSales Director\nHanbit Logistics\njisoo.park@hanbit.kr\nMobile +82 10 9876 5432")
        XCTAssertEqual(card.draft.channel, .businessCard)
        XCTAssertEqual(card.draft.emails, ["jisoo.park@hanbit.kr"])
        let c = try XCTUnwrap(card.confidence.first { $0.field == "emails[0]" }, "\(card.confidence)")
        XCTAssertTrue(c.confidence > 0 && c.confidence <= 1, "\(c)")
    }

    func testTheSameVisitorScannedTwiceIsADuplicateMergedWithoutLoss() throws {
        let store = try open()
        let first = try store.createLead(draft: try store.parseQr(text: vcard("Kim Minji", "minji@acme.co.kr", "Acme")).draft)
        let second = try store.createLead(draft: try store.parseQr(text: vcard("Minji Kim", "MINJI@acme.co.kr", "Acme Korea")).draft)
        let byEmail = try XCTUnwrap(try store.duplicates().first { $0.reason == .sameEmail })
        XCTAssertEqual(byEmail.value, "minji@acme.co.kr")
        XCTAssertEqual(Set(byEmail.leads.map(\.id)), [first.id, second.id])
        XCTAssertTrue(try store.duplicatesOf(leadId: second.id).contains { $0.reason == .sameEmail })

        let kept = try store.mergeLeads(keepId: first.id, otherId: second.id)
        XCTAssertEqual(kept.mergedFrom, [second.id])
        let gone = try store.lead(id: second.id)
        XCTAssertTrue(gone.deleted)
        XCTAssertEqual(gone.mergedInto, first.id)
        XCTAssertEqual(try store.duplicates(), [])
    }

    func testACsvImportChecksEveryRowOnADryRunAndNeverHalfApplies() throws {
        let store = try open()
        let bad = Data("Name,Company,Email\nKim Minji,Acme,minji@acme.co.kr\nLee Jun,Hanbit,not-an-email\n".utf8)
        let dry = try store.importCsv(csv: bad, dryRun: true, defaultCurrency: nil, skipInvalid: false)
        XCTAssertTrue(dry.dryRun)
        XCTAssertEqual(dry.rowsRead, 2)
        XCTAssertEqual(dry.validRows, 1)
        XCTAssertEqual(dry.imported, 0)
        XCTAssertEqual(dry.errors.map(\.row), [3])
        XCTAssertEqual(try store.importCsv(csv: bad, dryRun: false, defaultCurrency: nil, skipInvalid: false).imported, 0)
        XCTAssertEqual(try store.listLeads(query: LeadQuery(sort: .updated)).items.count, 0, "one bad row imports nothing")

        let good = Data("Name,Company,Email\nKim Minji,Acme,minji@acme.co.kr\n이준,한빛물류,jun@hanbit.kr\n".utf8)
        let done = try store.importCsv(csv: good, dryRun: false, defaultCurrency: "KRW", skipInvalid: false)
        XCTAssertEqual(done.imported, 2)
        XCTAssertEqual(Set(try done.leadIds.map { try store.lead(id: $0).name }), ["Kim Minji", "이준"])
        XCTAssertTrue(done.columns.contains { $0.hasPrefix("Email") }, "\(done.columns)")
    }
}
