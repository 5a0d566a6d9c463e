// The list screen's speed on 100,000 leads, next to the core calls it wraps, in one run:
// opening the screen until its first page is ready to draw (LeadsViewModel: settings, one
// keyset page, rows), and a keystroke in search until its results are ready (the search call,
// filters, rows). SwiftUI does not run on Linux, so "drawn" here is "the rows SwiftUI would
// draw are set". `scripts/test-bindings.sh --bench` runs it (`swift run -c release
// FieldSalesUIBench [LEADS] [ROUNDS]`) against the release library. Every lead of the store is
// still unsynced (no server here): the worst case for the not-synced marks.

import Dispatch
import FieldSalesKit
import FieldSalesUI
import Foundation

let args = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let leads = args.first ?? 100_000
let rounds = args.dropFirst().first ?? 200
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fieldsales-ui-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: dir) }

let surnames = ["김", "이", "박", "최", "정", "Kim", "Lee", "Park"]
let given = ["민지", "민호", "서연", "지훈", "하은", "도윤", "Minji", "Jisoo", "Hana", "Joon"]
let kit = try await FieldSalesKit.open(path: dir.appendingPathComponent("bench.db").path, userId: "rep-bench", region: "KR")
let built = DispatchTime.now().uptimeNanoseconds
for batch in stride(from: 0, to: leads, by: 1_000) {
    _ = try kit.store.createLeads(drafts: (batch..<min(batch + 1_000, leads)).map { i in
        LeadDraft(name: "\(surnames[i % surnames.count])\(given[(i / surnames.count) % given.count]) \(i)", company: "Acme \(i % 97)",
                  emails: ["lead\(i)@acme.co.kr"], event: i % 3 == 0 ? "Seoul Expo" : nil, tags: ["expo"])
    })
}
print(String(format: "store of %d leads built in %.1f s", leads, Double(DispatchTime.now().uptimeNanoseconds - built) / 1e9))

func median(_ ns: [UInt64]) -> Double {
    let s = ns.sorted()
    return Double(s[s.count / 2]) / 1_000
}

@MainActor
func time(_ body: @MainActor () async throws -> Void) async rethrows -> UInt64 {
    let t = DispatchTime.now().uptimeNanoseconds
    try await body()
    return DispatchTime.now().uptimeNanoseconds - t
}

@MainActor
func run() async throws {
    let core = CoreCalls(kit: kit)
    let context = UIContext(locale: Locale(identifier: "ko_KR"), timeZone: TimeZone(identifier: "Asia/Seoul")!)
    let first = LeadQuery(sort: .updated, limit: 50)
    var open: [UInt64] = [], openCore: [UInt64] = [], openSync: [UInt64] = [], openMarks: [UInt64] = [], facets: [UInt64] = []
    for _ in 0..<rounds {
        var model: LeadsViewModel?
        open.append(await time {
            model = LeadsViewModel(core: core, context: context)
            await model?.settled()
            precondition(model?.rows.count == 50)
        })
        // The filter choices it reads next, off the clock, so they do not slow the calls below.
        await model?.facetsSettled()
        openCore.append(try await time {
            let n = try await kit.listLeads(first).items.count
            precondition(n == 50)
        })
        openSync.append(try await time {
            let n = try kit.store.listLeads(query: first).items.count
            precondition(n == 50)
        })
        openMarks.append(try await time {
            let n = try kit.store.listPage(query: first).items.count
            precondition(n == 50)
        })
        facets.append(try await time { _ = try kit.store.leadFacets(limit: 20) })
    }
    print(String(format: "open the list → first page ready (LeadsViewModel): median %.0f µs", median(open)))
    print(String(format: "  the core call it wraps, FieldStore.listPage (50 rows and their not-synced marks): median %.0f µs", median(openMarks)))
    print(String(format: "  without the marks, FieldStore.listLeads: median %.0f µs; through FieldSalesKit (off the main thread): %.0f µs",
                 median(openSync), median(openCore)))
    print(String(format: "  read after the first page, FieldStore.leadFacets(20) (the filter choices): median %.0f µs", median(facets)))

    let model = LeadsViewModel(core: core, context: context)
    await model.facetsSettled()
    let typing = ["김", "김민", "김민지", "김민지 1", "Ki", "Kim", "Kim M", "Kim Minji", "acme 4"]
    var keystroke: [UInt64] = [], searchCore: [UInt64] = [], searchSync: [UInt64] = [], searchMarks: [UInt64] = []
    for r in 0..<rounds {
        let text = typing[r % typing.count]
        keystroke.append(await time {
            model.searchText = text
            await model.settled()
        })
        searchCore.append(try await time { _ = try await kit.searchLeads(text, limit: model.searchLimit) })
        searchSync.append(try await time { _ = try kit.store.searchLeads(text: text, limit: model.searchLimit) })
        searchMarks.append(try await time { _ = try kit.store.searchPage(text: text, limit: model.searchLimit) })
    }
    print(String(format: "keystroke in search → results ready (LeadsViewModel, %d results max): median %.0f µs", model.searchLimit, median(keystroke)))
    print(String(format: "  the core call it wraps, FieldStore.searchPage (results and their not-synced marks): median %.0f µs", median(searchMarks)))
    print(String(format: "  without the marks, FieldStore.searchLeads: median %.0f µs; through FieldSalesKit (off the main thread): %.0f µs",
                 median(searchSync), median(searchCore)))
}

try await run()
