import Engine
import Tokenization

/// Turns the engine's token logprobs into the wire formats: the legacy completions lists, the
/// chat `content` entries and vLLM's `prompt_logprobs`. Each token's text is `decode([id])`, as
/// vLLM shows it, or `token_id:N` with `tokensAsIDs` (vLLM's `return_tokens_as_token_ids`); chat
/// entries carry the token's own bytes. Log-probabilities of -inf (a token masked out) are sent
/// as -9999, which JSON can carry.
struct LogprobsFormatter: Sendable {
    let tokenizer: Tokenizer
    var tokensAsIDs = false

    init(tokenizer: Tokenizer, tokensAsIDs: Bool = false) {
        self.tokenizer = tokenizer
        self.tokensAsIDs = tokensAsIDs
    }

    func text(_ id: Int32) -> String {
        tokensAsIDs ? "token_id:\(id)" : tokenizer.decode([id], skipSpecialTokens: false)
    }

    /// The token's bytes: the vocabulary's own (a piece of a multi-byte character stays
    /// itself, not U+FFFD), else its text's.
    func bytes(_ id: Int32) -> [UInt8] {
        tokenizer.tokenBytes(id) ?? Array(tokenizer.decode([id], skipSpecialTokens: false).utf8)
    }

    static func finite(_ logprob: Float) -> Float {
        logprob.isFinite ? logprob : -9999
    }

    /// Appends `entries` to completions logprobs; `offset` is the running character offset of
    /// the choice's text (Unicode scalars, as Python counts), advanced by each token's text. A
    /// nil entry (the first prompt token under `echo`) has null logprobs.
    func appendCompletion(_ entries: [TokenLogprob?], tokenIDs: [Int32]? = nil, to logprobs: inout CompletionLogprobs,
                          offset: inout Int) {
        for (position, entry) in entries.enumerated() {
            guard let entry else {
                let token = tokenIDs.map { text($0[position]) } ?? ""
                logprobs.tokens.append(token)
                logprobs.tokenLogprobs.append(nil)
                logprobs.topLogprobs.append(nil)
                logprobs.textOffset.append(offset)
                offset += token.unicodeScalars.count
                continue
            }
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

    func appendCompletion(_ entries: [TokenLogprob], to logprobs: inout CompletionLogprobs, offset: inout Int) {
        appendCompletion(entries.map { Optional($0) }, to: &logprobs, offset: &offset)
    }

    /// Chat logprobs entries for `entries`.
    func chatEntries(_ entries: [TokenLogprob]) -> [ChatLogprobs.Entry] {
        entries.map { entry in
            ChatLogprobs.Entry(
                token: text(entry.tokenID), logprob: Self.finite(entry.logprob), bytes: bytes(entry.tokenID),
                topLogprobs: entry.top.map { alternative in
                    ChatLogprobs.Entry(token: text(alternative.tokenID), logprob: Self.finite(alternative.logprob),
                                       bytes: bytes(alternative.tokenID), topLogprobs: nil)
                })
        }
    }

    /// vLLM's `prompt_logprobs`: per prompt position (the first null), the prompt's token and
    /// the alternatives, keyed by token id, with logprob, rank and text.
    func promptLogprobs(_ entries: [TokenLogprob?]) -> [PromptLogprob?] {
        entries.map { entry in
            guard let entry else { return nil }
            var position: PromptLogprob = [:]
            for (rank, alternative) in entry.top.enumerated() {
                position[String(alternative.tokenID)] = PromptLogprobEntry(
                    logprob: Self.finite(alternative.logprob), rank: rank + 1, decodedToken: text(alternative.tokenID))
            }
            position[String(entry.tokenID)] = PromptLogprobEntry(
                logprob: Self.finite(entry.logprob), rank: entry.rank, decodedToken: text(entry.tokenID))
            return position
        }
    }
}
