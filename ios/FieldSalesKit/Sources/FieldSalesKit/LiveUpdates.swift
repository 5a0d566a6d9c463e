// Live updates: while iterated, the server's live stream stays open (reconnecting with backoff
// when the network drops) and the store syncs whenever something this user may see changed, so
// `changes()` and the list models refresh a screen by themselves.

import Foundation

extension FieldSalesKit {
    /// What the live loop does (`.Connected`, `.Synced`, ...), until the consumer stops iterating;
    /// finishes throwing `FieldsalesError.Unauthorized` when the server no longer accepts this
    /// device.
    public func liveUpdates() -> AsyncThrowingStream<LiveUpdate, Error> {
        AsyncThrowingStream { continuation in
            let cancel = CancelHandle()
            let listener = ClosureLiveListener { continuation.yield($0) }
            let task = Task { [store] in
                do {
                    try await store.followLiveUpdates(listener: listener, cancel: cancel)
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in
                cancel.cancel()
                _ = task
            }
        }
    }
}

/// A `LiveUpdateListener` calling a closure (on the thread that runs the loop).
public final class ClosureLiveListener: LiveUpdateListener, @unchecked Sendable {
    private let f: (LiveUpdate) -> Void

    public init(_ f: @escaping (LiveUpdate) -> Void) {
        self.f = f
    }

    public func onUpdate(update: LiveUpdate) {
        f(update)
    }
}
