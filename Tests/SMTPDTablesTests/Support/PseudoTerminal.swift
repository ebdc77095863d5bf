import Foundation

/// Runs a tool on a real pseudo-terminal, as its controlling terminal, the way a user at a shell runs it: so
/// ^C and ^\ typed on it become SIGINT and SIGQUIT, and `stty -a` on it afterwards shows what the tool left.
/// The driver is Python's pty module (python3 is on the machine; tests using it are enabled only if it is).
enum PseudoTerminal {
    static let python = TestSupport.system("python3")
    static var available: Bool { python != nil && TestSupport.system("stty") != nil }

    struct Result: Sendable {
        /// Exit status, when the tool exited.
        var status: Int32?
        /// The signal that killed it, if one did.
        var signal: Int32?
        /// It had not ended `timeout` seconds after the input was sent (then killed).
        var hung: Bool
        /// Everything the terminal showed (the tool's terminal output; LF arrives as CR LF).
        var terminal: [UInt8]
        /// Standard output, when it was a pipe.
        var stdout: [UInt8]
        /// ECHO in the terminal's settings when `waitFor` appeared (nil without `waitFor`).
        var echoAtPrompt: Bool?
        /// `stty -a` on the terminal after the tool ended.
        var sttyAfter: String

        var terminalText: String { String(decoding: terminal, as: UTF8.self) }
        /// `stty -a` lists `echo` when echo is on and `-echo` when it is off.
        var echoAfter: Bool { sttyAfter.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == ";" }).contains("echo") }
    }

    /// Starts `argv` with stdin and stderr (and stdout unless `stdoutIsPipe`) on a new terminal, waits until
    /// the terminal shows `waitFor`, types `send`, and waits up to `timeout` seconds for the end.
    static func run(_ argv: [String], waitFor: String? = nil, send: [UInt8] = [], stdoutIsPipe: Bool = false,
                    timeout: Double = 30) throws -> Result {
        let spec: [String: Any] = [
            "argv": argv, "wait_for": waitFor ?? NSNull(), "send": Data(send).base64EncodedString(),
            "stdout_pipe": stdoutIsPipe, "timeout": timeout,
        ]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: spec), as: UTF8.self)
        let run = try TestSupport.run(python ?? "python3", ["-c", driver, json], timeout: timeout * 2 + 30)
        guard run.status == 0,
              let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        else { throw DriverFailure(text: "pty driver: \(run.status) \(run.stderr)") }
        func bytes(_ key: String) -> [UInt8] { Array(Data(base64Encoded: object[key] as? String ?? "") ?? Data()) }
        return Result(status: (object["status"] as? Int).map(Int32.init), signal: (object["signal"] as? Int).map(Int32.init),
                      hung: object["hung"] as? Bool ?? true, terminal: bytes("terminal"), stdout: bytes("stdout"),
                      echoAtPrompt: object["echo_at_prompt"] as? Bool, sttyAfter: object["stty_after"] as? String ?? "")
    }

    struct DriverFailure: Error, CustomStringConvertible { var text: String; var description: String { text } }

    private static let driver = #"""
import base64, json, os, pty, select, signal, subprocess, sys, termios, time
spec = json.loads(sys.argv[1])
master, slave = pty.openpty()
name = os.ttyname(slave)
out_r, out_w = os.pipe() if spec["stdout_pipe"] else (None, None)
pid = os.fork()
if pid == 0:
    os.setsid()
    tty = os.open(name, os.O_RDWR)  # the session leader's first terminal becomes its controlling terminal
    os.dup2(tty, 0); os.dup2(out_w if out_w is not None else tty, 1); os.dup2(tty, 2)
    # What a shell gives a command: no blocked signals, default actions.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
        signal.signal(s, signal.SIG_DFL)
    os.execv(spec["argv"][0], spec["argv"])
if out_w is not None: os.close(out_w)
terminal, stdout = bytearray(), bytearray()
def pump(wait):
    fds = [master] + ([out_r] if out_r is not None else [])
    ready, _, _ = select.select(fds, [], [], wait)
    for fd in ready:
        try: data = os.read(fd, 65536)
        except OSError: data = b""
        (terminal if fd == master else stdout).extend(data)
result = {"hung": False, "status": None, "signal": None, "echo_at_prompt": None}
deadline = time.time() + spec["timeout"]
if spec["wait_for"] is not None:
    want = spec["wait_for"].encode()
    while want not in terminal and time.time() < deadline: pump(0.05)
    result["echo_at_prompt"] = bool(termios.tcgetattr(slave)[3] & termios.ECHO)
os.write(master, base64.b64decode(spec["send"]))
deadline = time.time() + spec["timeout"]
status = None
while time.time() < deadline:
    pump(0.05)
    done, status = os.waitpid(pid, os.WNOHANG)
    if done: break
    status = None
if status is None:
    result["hung"] = True
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
for _ in range(10): pump(0.02)
if out_r is not None:
    while True:
        data = os.read(out_r, 65536)
        if not data: break
        stdout.extend(data)
if os.WIFEXITED(status): result["status"] = os.WEXITSTATUS(status)
else: result["signal"] = os.WTERMSIG(status)
result["stty_after"] = subprocess.run(["stty", "-a", "-F", name], capture_output=True, text=True).stdout
result["terminal"] = base64.b64encode(bytes(terminal)).decode()
result["stdout"] = base64.b64encode(bytes(stdout)).decode()
print(json.dumps(result))
"""#
}
