// The Swift side of the FFI-call benchmark: "list 50 leads" through the generated bindings, on
// the same data as bindings/examples/list_bench.rs. `scripts/test-bindings.sh --bench` runs it
// (`swift run -c release FieldSalesBench [ITERATIONS]`) against the release library.

import Dispatch
import FieldSalesKit
import Foundation

let iterations = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 20_000
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsales-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: dir) }

let store = try FieldStore.open(path: dir.appendingPathComponent("bench.db").path, userId: "rep-bench", region: "KR")
_ = try store.createLeads(drafts: (0..<1_000).map { i in
    LeadDraft(name: "김민지 \(i)", company: "Acme \(i % 37)", emails: ["lead\(i)@acme.co.kr"],
              phones: [String(format: "010-1234-%04d", i % 10_000)], tags: ["expo"])
})
let query = LeadQuery(sort: .updated, limit: 50)
for _ in 0..<(iterations / 5) {
    let count = try store.listLeads(query: query).items.count
    precondition(count == 50)
}
var listed = 0
let start = DispatchTime.now().uptimeNanoseconds
for _ in 0..<iterations {
    listed += try store.listLeads(query: query).items.count
}
let ns = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(iterations)
precondition(listed == 50 * iterations)
print(String(format: "swift FieldStore.listLeads list 50 leads: %.0f ns/call (%d calls)", ns, iterations))

// The fixed cost of one call, without the 50 records: a call returning a short string.
var chars = 0
for _ in 0..<(iterations / 5) { chars += store.region().count }
chars = 0
let start2 = DispatchTime.now().uptimeNanoseconds
for _ in 0..<iterations {
    chars += store.region().count
}
let ns2 = Double(DispatchTime.now().uptimeNanoseconds - start2) / Double(iterations)
precondition(chars == 2 * iterations)
print(String(format: "swift FieldStore.region (trivial call): %.0f ns/call (%d calls)", ns2, iterations))

// The same without a RustBuffer: a call returning a Bool.
let handle = CancelHandle()
var open = 0
for _ in 0..<(iterations / 5) { if !handle.isCancelled() { open += 1 } }
open = 0
let start3 = DispatchTime.now().uptimeNanoseconds
for _ in 0..<iterations {
    if !handle.isCancelled() { open += 1 }
}
let ns3 = Double(DispatchTime.now().uptimeNanoseconds - start3) / Double(iterations)
precondition(open == iterations)
print(String(format: "swift CancelHandle.isCancelled (trivial call, no buffer): %.0f ns/call (%d calls)", ns3, iterations))
