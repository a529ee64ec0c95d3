import Engine
import Tokenization

/// Turns the engine's token logprobs into the two wire formats: the legacy completions lists
/// and the chat `content` entries. Each token's text is `decode([id])`, as vLLM shows it;
/// log-probabilities of -inf (a token masked out) are sent as -9999, which JSON can carry.
struct LogprobsFormatter: Sendable {
    let tokenizer: Tokenizer

    func text(_ id: Int32) -> String {
        tokenizer.decode([id], skipSpecialTokens: false)
    }

    static func finite(_ logprob: Float) -> Float {
        logprob.isFinite ? logprob : -9999
    }

    /// Appends `entries` to completions logprobs; `offset` is the running character offset of
    /// the choice's text (Unicode scalars, as Python counts), advanced by each token's text.
    func appendCompletion(_ entries: [TokenLogprob], to logprobs: inout CompletionLogprobs, offset: inout Int) {
        for entry in entries {
            let token = text(entry.tokenID)
            logprobs.tokens.append(token)
            logprobs.tokenLogprobs.append(Self.finite(entry.logprob))
            var top: [String: Float] = [:]
            for alternative in entry.top {
                let key = text(alternative.tokenID)
                // Two ids may decode alike; keep the likelier, which comes first.
                if top[key] == nil { top[key] = Self.finite(alternative.logprob) }
            }
            logprobs.topLogprobs.append(top)
            logprobs.textOffset.append(offset)
            offset += token.unicodeScalars.count
        }
    }

    /// Chat logprobs entries for `entries`.
    func chatEntries(_ entries: [TokenLogprob]) -> [ChatLogprobs.Entry] {
        entries.map { entry in
            ChatLogprobs.Entry(
                token: text(entry.tokenID), logprob: Self.finite(entry.logprob), bytes: Array(text(entry.tokenID).utf8),
                topLogprobs: entry.top.map { alternative in
                    let token = text(alternative.tokenID)
                    return ChatLogprobs.Entry(token: token, logprob: Self.finite(alternative.logprob),
                                              bytes: Array(token.utf8), topLogprobs: nil)
                })
        }
    }
}
