// The Sync screen over SyncViewModel: last synced, waiting changes, the progress bar with
// cancel, plain-word errors, the quarantine list, and signing out (asked first when needed).
#if canImport(SwiftUI)
import FieldSalesUI
import SwiftUI

public struct SyncScreen: View {
    var model: SyncViewModel

    public init(model: SyncViewModel) {
        self.model = model
    }

    private var s: Strings { model.context.strings }

    public var body: some View {
        List {
            Section {
                Text(model.lastSyncedText)
                Text(model.waitingText)
                if let progress = model.progress {
                    ProgressView(value: progress) { Text(model.progressText ?? "") }
                        .accessibilityLabel(model.accessibilityLabel(.progress))
                    Button(model.cancelButtonTitle, role: .cancel) { model.cancel() }
                        .frame(minHeight: minTouch)
                        .accessibilityLabel(model.accessibilityLabel(.cancel))
                } else {
                    Button(model.syncButtonTitle) { Task { await model.sync() } }
                        .frame(minHeight: minTouch)
                        .accessibilityLabel(model.accessibilityLabel(.sync))
                }
                if let status = model.statusText { Text(status) }
                if let error = model.errorText { Text(error).foregroundStyle(.red) }
            }
            if !model.quarantine.isEmpty {
                Section(s(.syncQuarantineTitle)) {
                    ForEach(model.quarantine) { row in
                        VStack(alignment: .leading) {
                            Text(row.title)
                            Text(row.reason).font(.footnote)
                            Text(row.whenText).font(.caption).foregroundStyle(.secondary)
                        }
                        .accessibilityElement(children: .ignore)
                        .accessibilityLabel(row.accessibilityLabel)
                    }
                }
            }
            Section {
                Button(model.signOutButtonTitle, role: .destructive) { Task { await model.requestSignOut() } }
                    .frame(minHeight: minTouch)
                    .accessibilityLabel(model.accessibilityLabel(.signOut))
            }
        }
        .navigationTitle(s(.syncTitle))
        .task { await model.load() }
        .confirmationDialog(model.confirmation?.message ?? "", isPresented: Binding(
            get: { model.confirmation != nil }, set: { if !$0 { model.cancelSignOut() } }), titleVisibility: .visible) {
            Button(model.confirmation?.confirmLabel ?? "", role: .destructive) { Task { await model.confirmSignOut() } }
                .accessibilityLabel(model.accessibilityLabel(.confirmSignOut))
            Button(model.confirmation?.cancelLabel ?? "", role: .cancel) { model.cancelSignOut() }
                .accessibilityLabel(model.accessibilityLabel(.cancelSignOut))
        }
    }
}
#endif
