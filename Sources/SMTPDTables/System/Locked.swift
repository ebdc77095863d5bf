#if canImport(Glibc)
import Glibc
#endif

/// A value behind a pthread mutex, for the library's shared state (a table's current snapshot, indexes built on
/// first use, a resolver's open tables).
///
/// Not `Synchronization.Mutex`: on Linux it is built on futexes that ThreadSanitizer does not see, so TSan
/// reports every access made under it as a race; pthread mutexes it understands, and they cost the same here.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Runs `body` with the value, the lock held.
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body(&value)
    }
}
