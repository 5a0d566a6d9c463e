package io.fieldsales.kit

import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.ffi.FieldStore
import io.fieldsales.kit.ffi.FieldsalesException
import io.fieldsales.kit.ffi.TokenVault
import io.fieldsales.kit.ffi.VaultException
import io.fieldsales.kit.ffi.enroll
import io.fieldsales.kit.ffi.newActorId
import io.fieldsales.kit.ffi.newStoreKey
import io.fieldsales.kit.ffi.peekEncryptedStoreUser
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir
import java.io.File
import java.util.concurrent.ConcurrentHashMap

/**
 * The sync token in a vault (the app's Android Keystore) instead of the store, and the store
 * encrypted at rest; syncs go through the real `fieldsales-server` that scripts/test-bindings.sh
 * started.
 */
class SecretsTest {
    @TempDir
    lateinit var dir: File

    /** What an app would back with the Android Keystore; here, memory. */
    private class MemoryVault : TokenVault {
        val tokens = ConcurrentHashMap<String, String>()
        override fun load(account: String): String? = tokens[account]
        override fun save(account: String, token: String) {
            tokens[account] = token
        }
        override fun clear(account: String) {
            tokens.remove(account)
        }
    }

    private fun path(name: String) = File(dir, name).path

    /** The store file with its write-ahead log and shared-memory file, as one byte string. */
    private fun onDisk(path: String): String =
        listOf("", "-wal", "-shm").map { File(path + it) }.filter { it.exists() }
            .joinToString("") { String(it.readBytes(), Charsets.ISO_8859_1) }

    @Test
    fun `with a vault the sync token never lands in the database file, and sync works`(): Unit = runBlocking {
        val actor = newActorId()
        val creds = enroll(TestServer.url, TestServer.code("vault", 1), "vault phone", actor)
        assertTrue(creds.token.startsWith("fst_"))
        val vault = MemoryVault()
        val phonePath = path("phone.db")
        FieldStore.openWithActor(phonePath, creds.userId, "KR", actor).use { phone ->
            phone.saveCredentialsToVault(creds, vault)
            assertEquals(creds.token, vault.tokens[phone.vaultAccount()])
            assertFalse(phone.isEnrolled(), "no token in the store")
            assertTrue(phone.isEnrolledWithVault(vault))
            val lead = phone.createLead(LeadDraft(name = "Vault Lead", company = "Acme"))
            val sum = phone.syncWithVault(vault, null, null)
            assertEquals(1uL, sum.sent)
            assertEquals(0L, phone.pendingUploadCount())
            assertFalse(onDisk(phonePath).contains(creds.token), "token in the open store's files")

            // Control: the same credentials saved the old way do land in the file, so the
            // check above can fail. Syncing that store through a vault moves the token out.
            val oldPath = path("old.db")
            FieldStore.openWithActor(oldPath, creds.userId, "KR", actor).use { old ->
                old.saveCredentials(creds)
                assertTrue(onDisk(oldPath).contains(creds.token))
                val oldVault = MemoryVault()
                val got = old.syncWithVault(oldVault, null, null)
                assertTrue(got.received >= 1uL, "the other test's lead of this user may come too: $got")
                assertEquals("Vault Lead", old.lead(lead.id).name)
                assertEquals(creds.token, oldVault.tokens[old.vaultAccount()])
                assertFalse(onDisk(oldPath).contains(creds.token), "the moved token was erased")
                old.forgetToken(oldVault)
                assertTrue(oldVault.tokens.isEmpty())
                assertThrows<FieldsalesException.NotEnrolled> { old.syncWithVault(oldVault, null, null) }
            }
        }
        assertFalse(onDisk(phonePath).contains(creds.token))
    }

    @Test
    fun `a vault that fails is an exception, not a crash`(): Unit = runBlocking {
        val broken = object : TokenVault {
            override fun load(account: String): String? = throw VaultException.Failed("keystore locked")
            override fun save(account: String, token: String) = throw IllegalStateException("no keystore")
            override fun clear(account: String) {}
        }
        FieldStore.open(path("solo.db"), "rep-solo", "KR").use { s ->
            val e = assertThrows<FieldsalesException.Storage> { s.syncWithVault(broken, null, null) }
            assertTrue(e.message!!.contains("keystore locked"), e.message)
        }
    }

    @Test
    fun `an encrypted store is unreadable without its key and syncs with it`(): Unit = runBlocking {
        val key = newStoreKey()
        assertEquals(32, key.size)
        val actor = newActorId()
        val creds = enroll(TestServer.url, TestServer.code("vault", 2), "encrypted phone", actor)
        val p = path("secret.db")
        val vault = MemoryVault()
        FieldStore.openEncryptedWithActor(p, creds.userId, "KR", actor, key).use { s ->
            s.saveCredentialsToVault(creds, vault)
            s.createLead(LeadDraft(name = "Encrypted Ehwa", company = "Acme"))
            val sum = s.syncWithVault(vault, null, null)
            assertEquals(1uL, sum.sent)
            assertTrue(sum.received >= 1uL, "the lead synced in the first test comes down: $sum")
        }
        val bytes = File(p).readBytes()
        assertFalse(String(bytes.copyOf(16), Charsets.ISO_8859_1).startsWith("SQLite format 3"))
        assertFalse(String(bytes, Charsets.ISO_8859_1).contains("Ehwa"))

        assertThrows<FieldsalesException.WrongKey> { FieldStore.open(p, creds.userId, "KR") }
        assertThrows<FieldsalesException.WrongKey> { FieldStore.openEncrypted(p, creds.userId, "KR", newStoreKey()) }
        val short = assertThrows<FieldsalesException.Validation> { FieldStore.openEncrypted(p, creds.userId, "KR", ByteArray(5)) }
        assertTrue(short.message!!.contains("32 bytes"), short.message)
        assertArrayEquals(bytes, File(p).readBytes(), "failed opens wrote nothing")

        assertEquals(creds.userId, peekEncryptedStoreUser(p, key))
        assertNull(peekEncryptedStoreUser(path("none.db"), key))
        FieldStore.openEncrypted(p, creds.userId, "KR", key).use { s ->
            assertEquals("Encrypted Ehwa", s.searchLeads("ehwa", 10u).single().name)
            assertTrue(s.verify().ok)
        }
    }
}
