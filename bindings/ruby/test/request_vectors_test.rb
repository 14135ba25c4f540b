# frozen_string_literal: true

require_relative "test_helper"
require_relative "request_vectors_support"

# tests/vectors/requests.json: the same HTTP requests (headers, method, URL, DPoP proofs,
# certificates), client configurations and clock as the Rust core, the C suite and the other
# bindings; every case must end with the same decision, code, status, error, WWW-Authenticate
# values (exactly, in order), DPoP-Nonce, token type and subject.
#
# The file is run ONCE per process (the DPoP replay cache is process-wide: a case that replays an
# earlier case's proof expects DPOP_REPLAY), through Oidc::Client#authenticate in this process
# and through the Rack middleware in a child process (test/rack_vectors.rb).
class RequestVectorsTest < Minitest::Test
  include TestSupport
  include RequestVectors

  def test_every_request_vector_has_the_shared_decision
    v = request_vectors
    RequestVectors.claim!
    clients = v.fetch("clients").to_h { |name, cfg| [name, request_vector_client(cfg, v.fetch("jwks"))] }
    failures = []
    v.fetch("cases").each do |c|
      r = c.fetch("request")
      d = clients.fetch(c.fetch("client")).authenticate(
        method: r.fetch("method"), url: r.fetch("url"), authorization: r["authorization"], dpop: r["dpop"],
        client_cert: r["client_cert_b64"]&.unpack1("m0"), now: v.fetch("now")
      )
      got = decision_facts(d, c.fetch("expect").keys)
      failures << RequestVectors.diff(c["name"], c["expect"], got)
    end
    failures.compact!
    assert failures.empty?, "#{failures.size} of #{v['cases'].size} request vectors differ:\n#{failures.join("\n")}"
    assert_operator v["cases"].size, :>=, 20
  ensure
    clients&.each_value(&:close)
  end

  # The same cases through Oidc::Rack::BearerAuth in another process (its own replay cache):
  # the status, the WWW-Authenticate lines, DPoP-Nonce and, when allowed, the claims the app saw.
  def test_request_vectors_through_rack
    request_vectors # skip/fail early when the file is missing
    out, status = Open3.capture2e(RbConfig.ruby, "-I", File.expand_path("../lib", __dir__),
                                  File.expand_path("rack_vectors.rb", __dir__), REQUEST_VECTORS)
    assert status.success?, "rack_vectors.rb failed:\n#{out}"
    assert_match(/^rack vectors: (\d+) cases, 0 differ$/, out)
  end
end
