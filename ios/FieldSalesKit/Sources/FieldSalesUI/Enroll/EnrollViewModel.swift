// The Enroll screen: the server's address and the one-time code from the admin (typed or
// pasted), the device's name; what went wrong in plain words (an expired code, no network).

import FieldSalesKit
import Foundation
import Observation

@MainActor
@Observable
public final class EnrollViewModel {
    public var server = "" { didSet { serverError = nil; errorText = nil } }
    /// Typed or pasted; `code` is what will be sent (upper case, grouped XXXX-XXXX-XXXX-XXXX).
    public var codeText = "" { didSet { codeError = nil; errorText = nil } }
    public var deviceName: String
    public private(set) var serverError: String?
    public private(set) var codeError: String?
    public private(set) var errorText: String?
    public private(set) var isEnrolling = false

    public let context: UIContext
    private let enrollAction: @MainActor (_ server: String, _ code: String, _ deviceName: String) async throws -> Void

    /// `enroll` enrolls and opens the store (the app's session does it).
    public init(context: UIContext, deviceName: String,
                enroll: @escaping @MainActor (_ server: String, _ code: String, _ deviceName: String) async throws -> Void) {
        self.context = context
        self.deviceName = deviceName
        enrollAction = enroll
    }

    private var s: Strings { context.strings }

    /// The code as the server expects it: letters and digits only, upper case, in groups of four.
    public var code: String {
        Self.normalize(code: codeText)
    }

    nonisolated static func normalize(code: String) -> String {
        let chars = code.uppercased().filter { $0.isASCII && ($0.isLetter || $0.isNumber) }
        return stride(from: 0, to: chars.count, by: 4).map { i in
            let start = chars.index(chars.startIndex, offsetBy: i)
            let end = chars.index(start, offsetBy: min(4, chars.count - i))
            return String(chars[start..<end])
        }.joined(separator: "-")
    }

    /// Pasted text: a code, or an enrollment message holding a server address and a code
    /// ("Your code: abcd efgh jkmn pqrs, server https://…").
    public func paste(_ text: String) {
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        if let url = words.first(where: { $0.hasPrefix("http://") || $0.hasPrefix("https://") }) {
            server = url.trimmingCharacters(in: CharacterSet(charactersIn: ".,;)"))
        }
        let rest = words.filter { !$0.contains("://") }
        codeText = Self.code(in: rest) ?? rest.joined(separator: " ")
    }

    /// The first run of words that together hold exactly 16 letters and digits (dashes
    /// allowed): "abcd efgh jkmn pqrs", "ABCD-EFGH-JKMN-PQRS", "ABCDEFGHJKMNPQRS".
    nonisolated static func code(in words: [String]) -> String? {
        for i in words.indices {
            var count = 0
            for j in i..<words.endIndex {
                let w = words[j]
                guard w.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else { break }
                count += w.filter { $0 != "-" }.count
                if count == 16 { return words[i...j].joined(separator: " ") }
                if count > 16 { break }
            }
        }
        return nil
    }

    /// The address as entered, or with https:// added when the rep left the scheme out.
    var serverURL: String? {
        var t = server.trimmingCharacters(in: .whitespacesAndNewlines)
        if t.isEmpty { return nil }
        if !t.contains("://") { t = "https://" + t }
        guard let url = URL(string: t), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else { return nil }
        return t
    }

    public var canEnroll: Bool {
        !isEnrolling && !server.trimmingCharacters(in: .whitespaces).isEmpty && !codeText.isEmpty
    }

    /// Enrolls; returns whether it worked (the session then shows the rep's leads).
    @discardableResult
    public func enroll() async -> Bool {
        guard let url = serverURL else {
            serverError = s(.enrollBadServer)
            return false
        }
        guard code.count == 19 else {
            codeError = s(.enrollBadCode)
            return false
        }
        isEnrolling = true
        defer { isEnrolling = false }
        do {
            let name = deviceName.trimmingCharacters(in: .whitespaces)
            try await enrollAction(url, code, name.isEmpty ? s(.enrollDefaultDevice) : name)
            errorText = nil
            return true
        } catch let e as FieldsalesError {
            switch e {
            case .Server where CoreCalls.serverCode(of: e) == "invalid_code": codeError = s(.errorCodeExpired)
            case .Network: errorText = s(.enrollNoNetwork)
            default: errorText = context.plainError(e)
            }
            return false
        } catch {
            errorText = context.plainError(error)
            return false
        }
    }

    public var title: String { s(.enrollTitle) }
    public func label(_ control: Control) -> String {
        switch control {
        case .server: return s(.enrollServer)
        case .code: return s(.enrollCode)
        case .paste: return s(.enrollPaste)
        case .deviceName: return s(.enrollDevice)
        case .enroll: return s(.enrollButton)
        }
    }

    public func accessibilityLabel(_ control: Control) -> String {
        let error: String? = switch control {
        case .server: serverError
        case .code: codeError
        default: nil
        }
        return [label(control), error.map { s(.a11yError, $0) }].compactMap { $0 }.joined(separator: ", ")
    }

    public enum Control: Hashable, Sendable, CaseIterable {
        case server, code, paste, deviceName, enroll
    }
}
