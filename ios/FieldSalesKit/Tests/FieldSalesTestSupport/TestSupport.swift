// Shared by the kit's and the view models' tests: the sync server scripts/test-bindings.sh
// started, temp folders, waits, and small helpers.

import FieldSalesKit
import Foundation
import XCTest

/// 2026-11-02 09:00 UTC, a Monday.
public let T0: Int64 = 1_793_610_000_000

/// The sync server scripts/test-bindings.sh started for this run: its URL and fresh one-time
/// enrollment codes, from .fieldsales-test/server.properties in the package folder.
public enum TestServer {
    public static let file = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".fieldsales-test/server.properties")

    public static func props() throws -> [String: String] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw TestSetupError("no test server file at \(file.path); run scripts/test-bindings.sh, which starts fieldsales-server and writes it")
        }
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            out[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return out
    }

    public static func get(_ key: String) throws -> String {
        guard let v = try props()[key] else { throw TestSetupError("test server file has no '\(key)'") }
        return v
    }

    public static func url() throws -> String { try get("server") }
    public static func user(_ role: String) throws -> String { try get("swift.\(role).user") }
    public static func code(_ role: String, _ n: Int) throws -> String { try get("swift.\(role).code.\(n)") }
}

public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}

/// A fresh folder per test, removed afterwards.
public final class TempDir {
    public let url: URL
    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsales-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    public func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A value shared with callbacks that run on other threads.
public final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    public init(_ v: T) { value = v }
    public func with<R>(_ f: (inout T) -> R) -> R { lock.lock(); defer { lock.unlock() }; return f(&value) }
    public var get: T { with { $0 } }
}

/// The error `body` throws, failing the test if it throws none or another type.
public func expectError<T>(_ body: () async throws -> T, file: StaticString = #filePath, line: UInt = #line) async -> FieldsalesError? {
    do {
        let v = try await body()
        XCTFail("expected a FieldsalesError, got \(v)", file: file, line: line)
    } catch let e as FieldsalesError {
        return e
    } catch {
        XCTFail("expected a FieldsalesError, got \(error)", file: file, line: line)
    }
    return nil
}

/// Waits (up to `seconds`) until `condition` holds.
@MainActor
public func waitUntil(_ seconds: Double = 10, _ condition: () -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        if Date() > deadline { throw TestSetupError("condition not met within \(seconds) s") }
        try await Task.sleep(nanoseconds: 10_000_000)
    }
}

/// Resident memory of this process, KiB, from /proc/self/status.
public func vmRssKiB() throws -> Int {
    let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
    guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
          let kib = Int(line.dropFirst("VmRSS:".count).trimmingCharacters(in: .whitespaces).replacingOccurrences(of: " kB", with: ""))
    else { throw TestSetupError("no VmRSS in /proc/self/status") }
    return kib
}

public func openFds() throws -> Int {
    try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
}

public func countLeads(_ kit: FieldSalesKit) async throws -> Int {
    var n = 0
    var after: String? = nil
    repeat {
        let page = try await kit.listLeads(LeadQuery(sort: .created, limit: 500, after: after))
        n += page.items.count
        after = page.next
    } while after != nil
    return n
}

public func krw(_ amount: Int64) -> Money { Money(amountMinor: amount, currency: "KRW") }

/// A small team, closed and open, for report tests (figures worked out by hand in them):
/// rep-kim won 3,000,000 and 2,000,000 and lost one; rep-lee won 1,000,000 and has a 500,000
/// quote open; the store's own user (a manager) lost one.
public let teamFixture: [LeadDraft] = [
    LeadDraft(name: "A", stage: .won, dealValue: krw(3_000_000), owner: "rep-kim"),
    LeadDraft(name: "B", stage: .won, dealValue: krw(2_000_000), owner: "rep-kim"),
    LeadDraft(name: "C", stage: .lost, lostReason: "price", owner: "rep-kim"),
    LeadDraft(name: "D", stage: .won, dealValue: krw(1_000_000), owner: "rep-lee"),
    LeadDraft(name: "E", stage: .lost),
    LeadDraft(name: "F", stage: .proposal, dealValue: krw(500_000), owner: "rep-lee"),
]
