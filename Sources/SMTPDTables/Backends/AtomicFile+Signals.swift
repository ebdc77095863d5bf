// What a signal does while `AtomicFile.replace` writes: SIGINT, SIGTERM, SIGHUP and SIGQUIT remove every
// temporary file in progress and end the process with status 128 + the signal number (what a shell
// reports for a process killed by that signal; no core dump, no Swift crash report). The target is never
// touched, so "the old map or the new one" holds for a build the user stops too.
//
// Why a handler and not only the stale-file rules: those keep a killed run's file until a later build
// finds it, and a signal the user sends on purpose should leave nothing behind at once.
//
// How, within what a signal handler may do (async-signal-safe calls only, no allocation, no locks):
// - each replace in progress registers its temporary path in one slot of a buffer allocated once
//   (`slots` paths of PATH_MAX bytes) and sets its bit in an atomic mask;
// - the handler unlinks the path of every set bit, then `_exit`s;
// - the handlers are installed when the first replace starts and the previous dispositions (Swift's
//   backtracer on SIGQUIT, a tool's own handlers, SIG_DFL) restored when the last one ends. A signal
//   ignored on entry (SIG_IGN, e.g. SIGHUP under nohup) stays ignored.
// Registering and unregistering run with the four signals blocked in the calling thread, so in a
// single-threaded tool a signal sees the file either registered or absent. A signal handled on another
// thread in the short window between creating the file and registering it leaves a stale file, which the
// rules in AtomicFile.swift let the next build remove. Once the rename is done the slot is cleared, so a
// late signal takes its normal course with the new map in place.

import Glibc
import Synchronization

extension AtomicFile {
    /// The signals that remove a temporary file in progress (and end the process with 128 + the signal).
    static let interruptSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    /// Registers `path` for removal on a signal; installs the handlers if this is the first replace in
    /// progress. Returns the slot, or nil when every slot is taken (the file is then only covered by the
    /// stale-file rules).
    static func registerForSignals(_ path: String) -> Int? {
        let bytes = Array(path.utf8)
        guard bytes.count < signalPathCapacity, !bytes.contains(0) else { return nil }
        return signalRegistry.withLock { registry -> Int? in
            guard let slot = (0..<signalSlots).first(where: { registry.used & (1 << $0) == 0 }) else { return nil }
            let destination = signalPaths + slot * signalPathCapacity
            bytes.withUnsafeBufferPointer { source in
                source.withMemoryRebound(to: CChar.self) { destination.update(from: $0.baseAddress!, count: $0.count) }
            }
            destination[bytes.count] = 0
            if registry.used == 0 { registry.install() }
            registry.used |= 1 << slot
            // Published last, after the path bytes, so a handler never sees a half-written path.
            armedSignalSlots.bitwiseOr(1 << slot, ordering: .releasing)
            return slot
        }
    }

    /// Forgets a slot (its file was renamed or removed); restores the previous dispositions if it was the
    /// last replace in progress.
    static func unregisterForSignals(_ slot: Int) {
        signalRegistry.withLock { registry in
            armedSignalSlots.bitwiseAnd(~(1 << slot), ordering: .releasing)
            registry.used &= ~(1 << slot)
            if registry.used == 0 { registry.restore() }
        }
    }

    /// Runs `body` with the interrupt signals blocked in this thread (a blocked signal waits, and is
    /// delivered when they are unblocked).
    static func withInterruptSignalsBlocked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        for signal in interruptSignals { sigaddset(&blocked, signal) }
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return try body()
    }
}

/// SIGQUIT for the command-line tools.
public enum QuitSignal {
    /// Gives SIGQUIT its default action (end the process), unless it was ignored on entry. Swift's runtime
    /// answers SIGQUIT with a crash report and then lets the program carry on, which is wrong for a user
    /// pressing ^\; a tool calls this first thing. During a replace AtomicFile's handler takes over.
    public static func useDefaultAction() {
        var current = sigaction()
        guard sigaction(SIGQUIT, nil, &current) == 0, !isIgnored(current) else { return }
        _ = signal(SIGQUIT, SIG_DFL)
    }
}

/// Whether `action` is SIG_IGN.
private func isIgnored(_ action: sigaction) -> Bool {
    action.sa_flags & SA_SIGINFO == 0
        && unsafeBitCast(action.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
}

/// Concurrent replaces covered by the handler (more run unprotected, not refused).
private let signalSlots = 16
private let signalPathCapacity = Int(PATH_MAX)

/// The registered paths, NUL-terminated, one per slot. Allocated once and never freed: the handler
/// reads it, so it must never move.
nonisolated(unsafe) private let signalPaths = UnsafeMutablePointer<CChar>.allocate(capacity: signalSlots * signalPathCapacity)

/// Bit n set: slot n holds the path of a file in progress. Lock-free, so the handler may read it.
private let armedSignalSlots = Atomic<Int>(0)

private let signalRegistry = Mutex(SignalRegistry())

/// Which slots are taken and what the handlers replaced (only touched under the mutex, never by the handler).
private struct SignalRegistry: ~Copyable {
    var used = 0
    var previous: [(signal: Int32, action: sigaction)] = []

    mutating func install() {
        previous = []
        for signal in AtomicFile.interruptSignals {
            var old = sigaction()
            guard sigaction(signal, nil, &old) == 0 else { continue }
            // Ignored on entry (nohup, a shell's background job): the user asked not to be stopped by it.
            if isIgnored(old) { continue }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = removeTemporariesAndExit
            sigfillset(&action.sa_mask)
            action.sa_flags = 0
            if sigaction(signal, &action, nil) == 0 { previous.append((signal, old)) }
        }
    }

    mutating func restore() {
        for (signal, old) in previous {
            var action = old
            _ = sigaction(signal, &action, nil)
        }
        previous = []
    }
}

/// The handler: only async-signal-safe work (an atomic load, unlink(2), _exit(2)).
private func removeTemporariesAndExit(_ signal: Int32) {
    let armed = armedSignalSlots.load(ordering: .acquiring)
    var slot = 0
    while slot < signalSlots {
        if armed & (1 << slot) != 0 { _ = unlink(signalPaths + slot * signalPathCapacity) }
        slot += 1
    }
    _exit(128 + signal)
}
