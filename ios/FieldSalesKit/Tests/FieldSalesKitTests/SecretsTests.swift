import FieldSalesKit
import FieldSalesTestSupport
import Foundation
import XCTest

/// What an app would back with the iOS Keychain; here, memory.
final class MemoryVault: TokenVault, @unchecked Sendable {
    let tokens = Locked<[String: String]>([:])
    func load(account: String) throws -> String? { tokens.with { $0[account] } }
    func save(account: String, token: String) throws { tokens.with { $0[account] = token } }
    func clear(account: String) throws { tokens.with { $0[account] = nil } }
}

final class BrokenVault: TokenVault, @unchecked Sendable {
    func load(account: String) throws -> String? { throw VaultError.Failed(reason: "keychain locked") }
    func save(account: String, token: String) throws { throw VaultError.Failed(reason: "no keychain") }
    func clear(account: String) throws {}
}

/// The sync token in a vault (the app's Keychain) instead of the store, and the store encrypted
/// at rest; syncs go through the real `fieldsales-server` that scripts/test-bindings.sh started.
final class SecretsTests: XCTestCase {
    var dir: TempDir!

    override func setUpWithError() throws {
        dir = try TempDir()
    }

    override func tearDown() {
        dir = nil
    }

    /// The store file with its write-ahead log and shared-memory file, as one string.
    func onDisk(_ path: String) -> String {
        ["", "-wal", "-shm"].compactMap { FileManager.default.contents(atPath: path + $0) }
            .map { String(decoding: $0.map { $0 & 0x7f }, as: UTF8.self) }.joined()
    }

    func testWithAVaultTheSyncTokenNeverLandsInTheDatabaseFileAndSyncWorks() async throws {
        let url = try TestServer.url()
        let actor = newActorId()
        let creds = try await enroll(server: url, code: try TestServer.code("vault", 1), deviceName: "vault phone", actorId: actor)
        XCTAssertTrue(creds.token.hasPrefix("fst_"))
        let vault = MemoryVault()
        let phonePath = dir.path("phone.db")
        let phone = try FieldStore.openWithActor(path: phonePath, userId: creds.userId, region: "KR", actorId: actor)
        try phone.saveCredentialsToVault(credentials: creds, vault: vault)
        XCTAssertEqual(vault.tokens.get[phone.vaultAccount()], creds.token)
        XCTAssertFalse(phone.isEnrolled(), "no token in the store")
        XCTAssertTrue(try phone.isEnrolledWithVault(vault: vault))
        let lead = try phone.createLead(draft: LeadDraft(name: "Vault Lead", company: "Acme"))
        let sum = try await phone.syncWithVault(vault: vault, listener: nil, cancel: nil)
        XCTAssertEqual(sum.sent, 1)
        XCTAssertEqual(try phone.pendingUploadCount(), 0)
        XCTAssertFalse(onDisk(phonePath).contains(creds.token), "token in the open store's files")

        // Control: the same credentials saved the old way do land in the file, so the check
        // above can fail. Syncing that store through a vault moves the token out.
        let oldPath = dir.path("old.db")
        let old = try FieldStore.openWithActor(path: oldPath, userId: creds.userId, region: "KR", actorId: actor)
        try old.saveCredentials(credentials: creds)
        XCTAssertTrue(onDisk(oldPath).contains(creds.token))
        let oldVault = MemoryVault()
        let got = try await old.syncWithVault(vault: oldVault, listener: nil, cancel: nil)
        XCTAssertGreaterThanOrEqual(got.received, 1, "the other test's lead of this user may come too")
        XCTAssertEqual(try old.lead(id: lead.id).name, "Vault Lead")
        XCTAssertEqual(oldVault.tokens.get[old.vaultAccount()], creds.token)
        XCTAssertFalse(onDisk(oldPath).contains(creds.token), "the moved token was erased")
        try old.forgetToken(vault: oldVault)
        XCTAssertTrue(oldVault.tokens.get.isEmpty)
        let gone = await expectError { try await old.syncWithVault(vault: oldVault, listener: nil, cancel: nil) }
        guard case .NotEnrolled? = gone else { return XCTFail("\(String(describing: gone))") }
    }

    func testAVaultThatFailsIsAnErrorNotACrash() async throws {
        let solo = try FieldStore.open(path: dir.path("solo.db"), userId: "rep-solo", region: "KR")
        let e = await expectError { try await solo.syncWithVault(vault: BrokenVault(), listener: nil, cancel: nil) }
        guard case .Storage(let m)? = e else { return XCTFail("\(String(describing: e))") }
        XCTAssertTrue(m.contains("keychain locked"), m)
    }

    func testAnEncryptedStoreIsUnreadableWithoutItsKeyAndSyncsWithIt() async throws {
        let url = try TestServer.url()
        let key = newStoreKey()
        XCTAssertEqual(key.count, 32)
        let actor = newActorId()
        let creds = try await enroll(server: url, code: try TestServer.code("vault", 2), deviceName: "encrypted phone", actorId: actor)
        let p = dir.path("secret.db")
        let vault = MemoryVault()
        do {
            let s = try FieldStore.openEncryptedWithActor(path: p, userId: creds.userId, region: "KR", actorId: actor, key: key)
            try s.saveCredentialsToVault(credentials: creds, vault: vault)
            _ = try s.createLead(draft: LeadDraft(name: "Encrypted Ehwa", company: "Acme"))
            let sum = try await s.syncWithVault(vault: vault, listener: nil, cancel: nil)
            XCTAssertEqual(sum.sent, 1)
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: p))
        XCTAssertNotEqual(bytes.prefix(15), Data("SQLite format 3".utf8))
        XCTAssertFalse(onDisk(p).contains("Ehwa"))

        let plain = await expectError { try FieldStore.open(path: p, userId: creds.userId, region: "KR") }
        guard case .WrongKey? = plain else { return XCTFail("\(String(describing: plain))") }
        let other = await expectError { try FieldStore.openEncrypted(path: p, userId: creds.userId, region: "KR", key: newStoreKey()) }
        guard case .WrongKey(let m)? = other else { return XCTFail("\(String(describing: other))") }
        XCTAssertTrue(m.contains("wrong or missing encryption key"), m)
        let short = await expectError { try FieldStore.openEncrypted(path: p, userId: creds.userId, region: "KR", key: Data(count: 5)) }
        guard case .Validation? = short else { return XCTFail("\(String(describing: short))") }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: p)), bytes, "failed opens wrote nothing")

        XCTAssertEqual(try peekEncryptedStoreUser(path: p, key: key), creds.userId)
        let s = try FieldStore.openEncrypted(path: p, userId: creds.userId, region: "KR", key: key)
        XCTAssertEqual(try s.searchLeads(text: "ehwa", limit: 10).map(\.name), ["Encrypted Ehwa"])
        XCTAssertTrue(try s.verify().ok)
    }
}
