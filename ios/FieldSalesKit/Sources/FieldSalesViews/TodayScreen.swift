// The Today screen over TodayViewModel: overdue, today and the coming week, in the rep's zone.
#if canImport(SwiftUI)
import FieldSalesUI
import SwiftUI

public struct TodayScreen: View {
    var model: TodayViewModel
    let open: (String) -> Void

    public init(model: TodayViewModel, open: @escaping (String) -> Void) {
        self.model = model
        self.open = open
    }

    public var body: some View {
        List {
            ForEach(model.sections) { section in
                Section(section.title) {
                    ForEach(section.items) { item in
                        HStack {
                            Button { open(item.leadId) } label: {
                                VStack(alignment: .leading) {
                                    Text(item.title)
                                    if let sub = item.subtitle { Text(sub).font(.caption).foregroundStyle(.secondary) }
                                    Text(item.dueText).font(.caption).foregroundStyle(section.kind == .overdue ? .red : .secondary)
                                }
                                .frame(minHeight: minTouch, alignment: .leading)
                            }
                            .accessibilityLabel(item.accessibilityLabel)
                            Spacer()
                            if item.isTask {
                                Button { Task { await model.complete(item) } } label: { Image(systemName: "checkmark.circle") }
                                    .frame(minWidth: minTouch, minHeight: minTouch)
                                    .accessibilityLabel(model.accessibilityLabel(completing: item))
                            }
                        }
                    }
                }
            }
            if let empty = model.emptyText { Text(empty).foregroundStyle(.secondary) }
            if let error = model.errorText { Text(error).foregroundStyle(.red) }
        }
        .navigationTitle(model.dateTitle)
        .task { await model.load() }
        .refreshable { await model.load() }
    }
}
#endif
