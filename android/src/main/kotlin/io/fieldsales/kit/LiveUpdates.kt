package io.fieldsales.kit

import io.fieldsales.kit.ffi.CancelHandle
import io.fieldsales.kit.ffi.LiveUpdate
import io.fieldsales.kit.ffi.LiveUpdateListener
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.buffer
import kotlinx.coroutines.flow.callbackFlow
import kotlinx.coroutines.launch

/**
 * Live updates while collected: the server's live stream stays open (reconnecting with backoff
 * when the network drops) and the store syncs whenever something this user may see changed, so
 * that [FieldSalesKit.leads] and [FieldSalesKit.changes] refresh a screen by themselves. Emits
 * what happens ([LiveUpdate.Connected], [LiveUpdate.Synced], ...); stops when collection stops;
 * fails with `FieldsalesException.Unauthorized` when the server no longer accepts this device.
 */
fun FieldSalesKit.liveUpdates(): Flow<LiveUpdate> = callbackFlow {
    val cancel = CancelHandle()
    val listener = object : LiveUpdateListener {
        override fun onUpdate(update: LiveUpdate) {
            trySend(update)
        }
    }
    launch {
        try {
            store.followLiveUpdates(listener, cancel)
            close()
        } catch (e: Exception) {
            close(e)
        }
    }
    awaitClose {
        cancel.cancel()
        cancel.close()
    }
}.buffer(Channel.UNLIMITED)
