/// A getopt(3) for the drop-in front ends, as glibc's behaves by default: short options, grouped flags
/// (`-Ut set`), arguments attached or separate (`-dbtree`, `-d btree`), options and operands in any order
/// (GNU permutation, unless POSIXLY_CORRECT is set or the option string starts with `+`), `--` ends options.
/// Pure Swift: glibc's `optind`/`optarg` globals are not usable under Swift 6 strict concurrency.
public struct GetOpt {
    public struct Option: Equatable {
        public var letter: Character
        public var argument: String?

        public init(letter: Character, argument: String?) {
            self.letter = letter
            self.argument = argument
        }
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unknownOption(Character)
        case missingArgument(Character)

        /// The message glibc's getopt prints (after `PROGRAM: `).
        public var description: String {
            switch self {
            case .unknownOption(let c): return "invalid option -- '\(c)'"
            case .missingArgument(let c): return "option requires an argument -- '\(c)'"
            }
        }
    }

    public var options: [Option] = []
    public var operands: [String] = []

    /// Parses `arguments` (without the program name) against `spec` ("b:C:d:ho:O:t:U": a letter followed by
    /// `:` takes an argument).
    public init(_ arguments: [String], spec: String, posixlyCorrect: Bool = false) throws(Failure) {
        var takesArgument: [Character: Bool] = [:]
        var permute = !posixlyCorrect
        var chars = Array(spec)
        if chars.first == "+" { permute = false; chars.removeFirst() }
        var i = 0
        while i < chars.count {
            let takes = i + 1 < chars.count && chars[i + 1] == ":"
            takesArgument[chars[i]] = takes
            i += takes ? 2 : 1
        }
        var index = 0
        while index < arguments.count {
            let arg = arguments[index]
            index += 1
            if arg == "--" {
                operands.append(contentsOf: arguments[index...])
                break
            }
            guard arg.hasPrefix("-"), arg != "-" else {
                if permute {
                    operands.append(arg)
                    continue
                }
                operands.append(arg)
                operands.append(contentsOf: arguments[index...])
                break
            }
            var letters = Array(arg.dropFirst())[...]
            while let letter = letters.first {
                letters = letters.dropFirst()
                guard let takes = takesArgument[letter], letter != ":" else { throw .unknownOption(letter) }
                if !takes {
                    options.append(Option(letter: letter, argument: nil))
                    continue
                }
                if !letters.isEmpty {
                    options.append(Option(letter: letter, argument: String(letters)))
                } else if index < arguments.count {
                    options.append(Option(letter: letter, argument: arguments[index]))
                    index += 1
                } else {
                    throw .missingArgument(letter)
                }
                break
            }
        }
    }
}
