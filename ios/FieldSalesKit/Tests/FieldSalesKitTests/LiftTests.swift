import FieldSalesKit
import FieldSalesTestSupport
import Foundation
import XCTest

/// A buffer Rust returns is read through a raw pointer to its bytes (bindings/swift-fixup.sh,
/// "pointer reader"), not a Foundation `Data`: the same values, and a read past its end is refused.
final class LiftTests: XCTestCase {
    let texts = ["", "a", "김민지", "Zoë 🚀 café", String(repeating: "x", count: 70_000), String(repeating: "한", count: 30_000)]

    func testRecordsComeBackAsTheyWentIntoARustBuffer() throws {
        for t in texts {
            let draft = LeadDraft(name: t, company: "Acme \(t)", emails: ["a@b.co", t], tags: [t, "", t])
            XCTAssertEqual(try FfiConverterTypeLeadDraft_lift(FfiConverterTypeLeadDraft_lower(draft)), draft)
        }
    }

    func testAReadPastTheEndOfTheBufferIsRefused() throws {
        let draft = LeadDraft(name: "김민지", company: "Acme", emails: ["minji@acme.co.kr"], tags: ["expo"])
        let buf = FfiConverterTypeLeadDraft_lower(draft)
        for cut in [1, 5, Int(buf.len) - 1] {
            var short = buf
            short.len -= UInt64(cut)
            XCTAssertThrowsError(try FfiConverterTypeLeadDraft_lift(short), "cut \(cut)")
        }
        XCTAssertEqual(try FfiConverterTypeLeadDraft_lift(buf), draft)  // and frees it
    }

    func testListedLeadsKeepEveryCharacter() throws {
        let dir = try TempDir()
        let store = try FieldStore.open(path: dir.path("s.db"), userId: "rep-kim", region: "KR")
        let names = ["김민지", "Zoë 🚀 café", String(repeating: "이서준 ", count: 40).trimmingCharacters(in: .whitespaces)]
        _ = try store.createLeads(drafts: names.map { LeadDraft(name: $0, tags: [String($0.prefix(18))]) })
        let items = try store.listLeads(query: LeadQuery(sort: .updated, limit: 50)).items
        XCTAssertEqual(Set(items.compactMap(\.name)), Set(names))
        for item in items { XCTAssertEqual(item.tags, [String((item.name ?? "?").prefix(18))]) }
    }
}
