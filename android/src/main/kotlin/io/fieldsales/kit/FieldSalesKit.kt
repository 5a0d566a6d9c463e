package io.fieldsales.kit

import io.fieldsales.kit.core.Activity
import io.fieldsales.kit.core.ActivityDraft
import io.fieldsales.kit.core.ActivityPatch
import io.fieldsales.kit.core.FollowUps
import io.fieldsales.kit.core.Lead
import io.fieldsales.kit.core.LeadDraft
import io.fieldsales.kit.core.LeadPatch
import io.fieldsales.kit.core.LeadQuery
import io.fieldsales.kit.core.LeadSort
import io.fieldsales.kit.core.LeadSummary
import io.fieldsales.kit.ffi.CancelHandle
import io.fieldsales.kit.ffi.ChangeListener
import io.fieldsales.kit.core.ChangedRecords
import io.fieldsales.kit.ffi.FieldStore
import io.fieldsales.kit.ffi.FieldsalesException
import io.fieldsales.kit.core.LeadDetail
import io.fieldsales.kit.ffi.LeadPage
import io.fieldsales.kit.core.QuarantineApplied
import io.fieldsales.kit.ffi.QuarantineEntry
import io.fieldsales.kit.core.SyncProgress
import io.fieldsales.kit.ffi.SyncProgressListener
import io.fieldsales.kit.core.SyncSummary
import io.fieldsales.kit.ffi.newActorId
import io.fieldsales.kit.ffi.peekStoreUser
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.withContext
import io.fieldsales.kit.ffi.enroll as ffiEnroll
import io.fieldsales.kit.ffi.enrollAs as ffiEnrollAs

/**
 * The Fieldsales core for an app: one user's offline store, its lists and edits as `suspend`
 * functions, a [Flow] of the lead list that follows every change, and sync.
 *
 * Everything here is a thin layer over the generated bindings ([store] is the generated
 * [FieldStore], usable directly for anything not wrapped). Store calls block on SQLite for a few
 * milliseconds, so they run on [io] (Dispatchers.IO by default), never on the main thread.
 *
 * ```kotlin
 * val kit = FieldSalesKit.open(File(filesDir, "leads.db").path, userId = "rep-kim", region = "KR")
 * kit.createLead(LeadDraft(name = "김민지", company = "Acme Korea", phones = listOf("010-1234-5678")))
 * kit.leads(LeadQuery(sort = LeadSort.UPDATED)).collect { adapter.submitList(it) }
 * ```
 */
class FieldSalesKit private constructor(
    /** The generated store object, for calls this layer does not wrap. */
    val store: FieldStore,
    private val io: CoroutineDispatcher,
) : AutoCloseable {

    companion object {
        /** Opens (creating if needed) the store at [path] for [userId]; [region] reads local phone numbers. */
        suspend fun open(path: String, userId: String, region: String, io: CoroutineDispatcher = Dispatchers.IO): FieldSalesKit =
            withContext(io) { FieldSalesKit(FieldStore.open(path, userId, region), io) }

        /**
         * Enrolls this device with a one-time [code] from the admin and returns its store, ready to
         * [sync]. A new store is created for the enrolled user, with the actor id the server now
         * knows; an existing store keeps its actor and must belong to that same user.
         */
        suspend fun enroll(
            path: String,
            region: String,
            server: String,
            code: String,
            deviceName: String,
            io: CoroutineDispatcher = Dispatchers.IO,
        ): FieldSalesKit {
            val existingUser = withContext(io) { peekStoreUser(path) }
            if (existingUser != null) {
                val kit = open(path, existingUser, region, io)
                try {
                    // The server refuses a code for anyone else before using it up; a store
                    // enrolled again gets its device back and sends what waited in it.
                    val credentials = ffiEnrollAs(server, code, deviceName, kit.store.actorId(), existingUser)
                    if (credentials.userId != existingUser) {
                        throw FieldsalesException.WrongUser(
                            "this code enrolls user '${credentials.userId}', but the store at $path belongs to '$existingUser'",
                        )
                    }
                    withContext(io) { kit.store.saveCredentials(credentials) }
                    return kit
                } catch (e: Throwable) {
                    kit.close()
                    throw e
                }
            }
            val actor = newActorId()
            val credentials = ffiEnroll(server, code, deviceName, actor)
            return withContext(io) {
                val store = FieldStore.openWithActor(path, credentials.userId, region, actor)
                try {
                    store.saveCredentials(credentials)
                } catch (e: Throwable) {
                    store.close()
                    throw e
                }
                FieldSalesKit(store, io)
            }
        }
    }

    val userId: String get() = store.userId()

    // ---- leads ------------------------------------------------------------------------------

    suspend fun createLead(draft: LeadDraft): Lead = withContext(io) { store.createLead(draft) }

    suspend fun createLeads(drafts: List<LeadDraft>): List<Lead> = withContext(io) { store.createLeads(drafts) }

    suspend fun updateLead(id: String, patch: LeadPatch): Lead = withContext(io) { store.updateLead(id, patch) }

    suspend fun deleteLead(id: String): Lead = withContext(io) { store.deleteLead(id) }

    suspend fun restoreLead(id: String): Lead = withContext(io) { store.restoreLead(id) }

    suspend fun lead(id: String): Lead = withContext(io) { store.lead(id) }

    suspend fun leadDetail(id: String): LeadDetail = withContext(io) { store.leadDetail(id) }

    suspend fun listLeads(query: LeadQuery = LeadQuery(sort = LeadSort.UPDATED)): LeadPage = withContext(io) { store.listLeads(query) }

    suspend fun searchLeads(text: String, limit: UInt = 50u): List<LeadSummary> = withContext(io) { store.searchLeads(text, limit) }

    /** `timeZone`: an IANA name ("Asia/Seoul"); the device's zone by default. */
    suspend fun followUps(nowMs: Long = System.currentTimeMillis(), timeZone: String = java.util.TimeZone.getDefault().id): FollowUps =
        withContext(io) { store.followUps(nowMs, timeZone) }

    // ---- activities -------------------------------------------------------------------------

    suspend fun addActivity(draft: ActivityDraft): Activity = withContext(io) { store.addActivity(draft) }

    suspend fun updateActivity(id: String, patch: ActivityPatch): Activity = withContext(io) { store.updateActivity(id, patch) }

    suspend fun completeActivity(id: String): Activity = withContext(io) { store.completeActivity(id) }

    suspend fun deleteActivity(id: String): Activity = withContext(io) { store.deleteActivity(id) }

    // ---- change observation -----------------------------------------------------------------

    /** Every committed local write and every merge from sync, as the core's change observer reports them. */
    fun changes(): Flow<ChangedRecords> = callbackFlow {
        val handle = store.addObserver(Listener { trySend(it) })
        awaitClose { store.removeObserver(handle) }
    }.buffer(Channel.UNLIMITED)

    /**
     * The first page of the lead list for [query], now and again after every change to a lead
     * (a local edit or a merge from sync): what a list screen collects. Refreshes are conflated,
     * so a burst of writes costs one query. The observer is registered before the first query,
     * so no change can slip between the two, and removed when collection stops.
     */
    fun leads(query: LeadQuery = LeadQuery(sort = LeadSort.UPDATED)): Flow<List<LeadSummary>> = flow {
        val dirty = Channel<Unit>(Channel.CONFLATED)
        val handle = store.addObserver(Listener { if (it.leads.isNotEmpty()) dirty.trySend(Unit) })
        try {
            dirty.trySend(Unit)
            for (signal in dirty) emit(withContext(io) { store.listLeads(query).items })
        } finally {
            store.removeObserver(handle)
            dirty.close()
        }
    }

    // ---- sync -------------------------------------------------------------------------------

    val isEnrolled: Boolean get() = store.isEnrolled()

    /**
     * Pushes local changes, then pulls until caught up. Cancelling the calling coroutine, or
     * [cancel], stops it at the next step boundary with nothing half-applied
     * ([FieldsalesException.Cancelled] for the handle); the next sync carries on.
     */
    suspend fun sync(cancel: CancelHandle? = null, onProgress: ((SyncProgress) -> Unit)? = null): SyncSummary {
        val handle = cancel ?: CancelHandle()
        val listener = onProgress?.let { f ->
            object : SyncProgressListener {
                override fun onProgress(progress: SyncProgress) {
                    try {
                        f(progress)
                    } catch (e: Exception) {
                        // A progress display that fails must not break the sync.
                    }
                }
            }
        }
        try {
            return store.sync(listener, handle)
        } catch (e: CancellationException) {
            handle.cancel()
            throw e
        } finally {
            if (cancel == null) handle.close()
        }
    }

    suspend fun quarantine(): List<QuarantineEntry> = withContext(io) { store.quarantine() }

    /** One refused change: what it did field by field, why, and what can be done. */
    suspend fun quarantineEntry(id: Long): QuarantineEntry = withContext(io) { store.quarantineEntry(id) }

    /** Re-applies a refused change where the user may (see `FieldStore.quarantineApply`). */
    suspend fun applyQuarantined(id: Long): QuarantineApplied = withContext(io) { store.quarantineApply(id) }

    /** Drops a refused change for good. */
    suspend fun discardQuarantined(id: Long): QuarantineEntry = withContext(io) { store.quarantineDiscard(id) }

    suspend fun pendingUploadCount(): Long = withContext(io) { store.pendingUploadCount() }

    /** Releases the store (its SQLite connections close once a running sync, if any, ends). */
    override fun close() = store.close()

    private class Listener(private val f: (ChangedRecords) -> Unit) : ChangeListener {
        override fun onChange(changed: ChangedRecords) {
            try {
                f(changed)
            } catch (e: Exception) {
                // Listeners run on the writing thread after the commit; never fail the write.
            }
        }
    }
}

