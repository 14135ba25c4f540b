# frozen_string_literal: true

require "json"

# Reading tests/vectors/requests.json (format: /work/handoff/SPEC.md, "Shared request vectors"),
# shared by test/request_vectors_test.rb (Client#authenticate) and test/rack_vectors.rb (the Rack
# middleware, in a child process). No minitest here.
module RequestVectors
  REQUEST_VECTORS = ENV.fetch("OIDC_REQUEST_VECTORS",
                              File.expand_path("../../../tests/vectors/requests.json", __dir__))

  # The file may be run once per process: the DPoP replay cache is process-wide and a case that
  # replays an earlier case's proof expects DPOP_REPLAY. A second run would see every allowed
  # DPoP proof as a replay, so it is refused instead of failing mysteriously.
  def self.claim!
    raise "tests/vectors/requests.json runs once per process (process-wide DPoP replay cache)" if @claimed

    @claimed = true
  end

  def self.load(path = REQUEST_VECTORS)
    JSON.parse(File.read(path))
  end

  def request_vectors
    TestSupport.need(self, File.exist?(REQUEST_VECTORS), "#{REQUEST_VECTORS} missing") if defined?(TestSupport)
    @request_vectors ||= RequestVectors.load
  end

  # One client per entry of "clients"; null members are "not set".
  def request_vector_client(cfg, jwks)
    RequestVectors.client(cfg, jwks)
  end

  def self.client(cfg, jwks)
    known = %w[issuer audiences expected_typ algorithms leeway_secs max_token_bytes realm required_claims
               required_scopes claim_values dpop_mode dpop_algorithms dpop_proof_window_secs
               dpop_nonce_secret_hex dpop_nonce_lifetime_secs require_mtls token_cache_size]
    unknown = cfg.keys - known
    raise "client config members this runner does not know: #{unknown.inspect}" unless unknown.empty?

    opts = {
      issuer: cfg.fetch("issuer"), audiences: cfg["audiences"] || [], expected_typ: cfg["expected_typ"],
      algorithms: cfg["algorithms"], leeway: cfg["leeway_secs"], max_token_bytes: cfg["max_token_bytes"],
      realm: cfg["realm"], required_claims: cfg["required_claims"] || [], jwks_json: jwks,
      required_scopes: cfg["required_scopes"], claim_values: cfg["claim_values"],
      dpop_mode: cfg["dpop_mode"], dpop_algorithms: cfg["dpop_algorithms"],
      dpop_proof_window: cfg["dpop_proof_window_secs"],
      dpop_nonce_secret: cfg["dpop_nonce_secret_hex"] && [cfg["dpop_nonce_secret_hex"]].pack("H*"),
      dpop_nonce_lifetime: cfg["dpop_nonce_lifetime_secs"], require_mtls: cfg["require_mtls"],
      token_cache_size: cfg["token_cache_size"]
    }
    Oidc::Client.new(**opts)
  end

  # The members of a case's "expect" read from a decision (an unknown member reads as
  # :unknown_member, so it can never match silently).
  def decision_facts(d, keys)
    keys.to_h do |k|
      [k, case k
          when "allowed" then d.allowed?
          when "code" then d.code
          when "code_name" then d.name
          when "status" then d.status
          when "error" then d.error
          when "challenges" then d.challenges
          when "dpop_nonce" then d.dpop_nonce
          when "token_type" then d.token_type
          when "sub" then d.subject
          else :unknown_member
          end]
    end
  end

  # "name: member expected X, got Y; ..." for the members that differ (nil when none).
  def self.diff(name, expect, got)
    bad = expect.keys.reject { |k| expect[k] == got[k] }
    return nil if bad.empty?

    "#{name}: " + bad.map { |k| "#{k} expected #{expect[k].inspect}, got #{got[k].inspect}" }.join("; ")
  end
end
