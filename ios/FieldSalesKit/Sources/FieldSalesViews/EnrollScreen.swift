// The Enroll screen over EnrollViewModel: server, one-time code (typed or pasted), device name.
#if canImport(SwiftUI)
import FieldSalesUI
import SwiftUI

public struct EnrollScreen: View {
    @Bindable var model: EnrollViewModel

    public init(model: EnrollViewModel) {
        self.model = model
    }

    public var body: some View {
        Form {
            Section {
                TextField(model.label(.server), text: $model.server)
                    .frame(minHeight: minTouch)
                    .accessibilityLabel(model.accessibilityLabel(.server))
                #if os(iOS)
                    .keyboardType(.URL)
                    .textInputAutocapitalization(.never)
                #endif
                FieldError(text: model.serverError)
                HStack {
                    TextField(model.label(.code), text: $model.codeText)
                        .frame(minHeight: minTouch)
                        .accessibilityLabel(model.accessibilityLabel(.code))
                    #if os(iOS)
                        .textInputAutocapitalization(.characters)
                    #endif
                    PasteButton(payloadType: String.self) { texts in
                        if let text = texts.first { model.paste(text) }
                    }
                    .accessibilityLabel(model.accessibilityLabel(.paste))
                }
                FieldError(text: model.codeError)
                TextField(model.label(.deviceName), text: $model.deviceName)
                    .frame(minHeight: minTouch)
                    .accessibilityLabel(model.accessibilityLabel(.deviceName))
            }
            Section {
                Button(model.label(.enroll)) { Task { await model.enroll() } }
                    .disabled(!model.canEnroll)
                    .frame(minHeight: minTouch)
                    .accessibilityLabel(model.accessibilityLabel(.enroll))
                if model.isEnrolling { ProgressView() }
                if let error = model.errorText { Text(error).foregroundStyle(.red) }
            }
        }
        .navigationTitle(model.title)
    }
}
#endif
