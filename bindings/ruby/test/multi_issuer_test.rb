# frozen_string_literal: true

require_relative "test_helper"

# tests/vectors/multi_issuer.json through Oidc::Issuer / Client.new(issuers:), the issuer
# keywords reaching liboidc (read back from its policy export), and Issuer misuse.
class MultiIssuerTest < Minitest::Test
  include TestSupport

  def assert_every_case(client)
    v = multi_vectors
    assert_operator v["cases"].size, :>=, 10
    assert_operator v["cases"].map { |c| c["code"] }.uniq.size, :>=, 4, "the vectors must cover several outcomes"
    got = decide_all(client, v)
    v["cases"].each do |c|
      assert_equal [c["code"], c["expect"]], got.fetch(c["name"]), "vector #{c['name'].inspect}"
    end
  end

  def test_every_vector_through_issuer_objects
    client = multi_client
    assert_every_case(client)
    # a success returns that issuer's claims
    v = multi_vectors
    ok = v["cases"].find { |c| c["code"].zero? && c["name"].include?("issuer B") }
    claims = client.validate_at(ok["token"], v["now"])
    assert_equal v["issuers"][1]["issuer"], claims.issuer
  ensure
    client&.close
  end

  def test_every_vector_through_hashes
    client = multi_client(as_hashes: true)
    assert_every_case(client)
  ensure
    client&.close
  end

  # Without the added issuers, the same validator refuses the tokens of both (the vectors are
  # not passed by the validator-level config alone).
  def test_the_added_issuers_matter
    v = multi_vectors
    c = v["config"]
    ok = v["cases"].select { |x| x["code"].zero? }
    refute_empty ok
    # one issuer only: B's tokens are now refused
    a = Oidc::Issuer.new(**multi_issuer_keywords(v["issuers"][0]))
    client = Oidc::Client.new(audiences: c["audiences"], required_claims: c["required_claims"], issuers: [a])
    got = decide_all(client, v)
    ok.each do |x|
      expect_ok = x["name"].start_with?("issuer A")
      assert_equal expect_ok, got[x["name"]][0].zero?, "#{x['name']}: #{got[x['name']].inspect}"
    end
    client.close
  end

  # Every Issuer keyword reaches liboidc: build a client and read its policy export.
  def test_issuer_keywords_reach_liboidc
    jwks = multi_vectors["issuers"][0]["jwks"]
    exact = Oidc::Issuer.new(issuer: "https://exact.example", jwks_json: jwks, audiences: %w[api-1 api-2],
                             algorithms: %w[ES256 RS256], expected_typ: "at+jwt", required_claims: %i[sub email])
    uri = Oidc::Issuer.new(issuer: "https://uri.example", jwks_uri: "https://uri.example/keys", any_audience: true)
    list = Oidc::Issuer.new(issuer: "https://login.example/{tenant}/v2.0", tenants: %w[t1 t2], tenant_claim: "tenant",
                            tenant_bounds: { max_tenants: 8, new_per_window: 2, window: 10, max_in_flight: 1 })
    any = Oidc::Issuer.new(issuer: "https://any.example/{tenant}", tenants: :any)
    client = Oidc::Client.new(issuer: "https://own.example", audiences: "api", jwks_json: jwks,
                              issuers: [exact, uri, list, any])
    doc = client.policy
    entries = doc.fetch("issuers").to_h { |i| [i.fetch("issuer"), i] }
    e = entries.fetch("https://exact.example")
    assert_equal %w[api-1 api-2], e["audiences"]
    assert_equal %w[ES256 RS256].sort, e["algorithms"].sort
    assert_equal "at+jwt", e["typ"]
    assert_equal %w[sub email], e["required_claims"]
    assert_equal jwks, e["jwks"]
    u = entries.fetch("https://uri.example")
    assert_equal "https://uri.example/keys", u["jwks_uri"]
    assert_equal true, u["any_audience"]
    l = entries.fetch("https://login.example/{tenant}/v2.0")
    assert_equal %w[t1 t2], l["tenants"]
    assert_equal "tenant", l["tenant_claim"]
    assert_equal({ "max_tenants" => 8, "new_per_window" => 2, "window_secs" => 10, "max_in_flight" => 1 },
                 l["tenant_bounds"])
    assert_equal "any", entries.fetch("https://any.example/{tenant}")["tenants"]
    assert_equal "https://own.example", doc["issuer"]
    assert [exact, uri, list, any].all?(&:added?)
    assert_match(/added/, exact.inspect)
    client.close
  end

  # A token of an issuer template: the tenant from `iss` must be allowed (liboidc decides; no
  # network is needed to refuse).
  def test_template_refuses_a_tenant_not_listed_without_network
    v = multi_vectors
    tpl = Oidc::Issuer.new(issuer: "https://b.issuers.vectors.test/{tenant}/v2.0", tenants: %w[other-tenant])
    client = Oidc::Client.new(audiences: v["config"]["audiences"], issuers: [tpl])
    b_ok = v["cases"].find { |c| c["code"].zero? && c["name"].start_with?("issuer B") }
    e = assert_raises(Oidc::TokenError) { client.validate_at(b_ok["token"], v["now"]) }
    assert_equal "ISSUER_MISMATCH", e.name
    client.close
  end

  # --- misuse: clear errors, no crash, nothing leaked ---

  def test_issuer_argument_errors
    assert_raises(TypeError) { Oidc::Issuer.new(issuer: nil) }
    assert_raises(TypeError) { Oidc::Issuer.new(issuer: 42) }
    assert_raises(ArgumentError) { Oidc::Issuer.new }
    e = assert_raises(Oidc::InvalidUtf8) { Oidc::Issuer.new(issuer: "https://\xff.example".b) }
    assert_kind_of Oidc::UsageError, e
    assert_raises(Oidc::InvalidUtf8) { Oidc::Issuer.new(issuer: "https://a.example", audiences: ["\xc3".b]) }
    e = assert_raises(Oidc::UnsupportedAlgorithm) { Oidc::Issuer.new(issuer: "https://a.example", algorithms: "HS256") }
    assert_kind_of Oidc::ConfigError, e
    assert_raises(TypeError) { Oidc::Issuer.new(issuer: "https://a.example", jwks_uri: 7) }
    assert_raises(ArgumentError) { Oidc::Issuer.new(issuer: "https://a/{tenant}", tenants: "all") }
    # A bound left out keeps liboidc's default (the binding passes 0 for it, never a copy).
    c = Oidc::Client.new(audiences: ["api"], issuers: [Oidc::Issuer.new(issuer: "https://a.example/{tenant}", tenants: :any,
                                                                          tenant_bounds: { max_tenants: 1 })])
    tb = c.policy["issuers"][0]["tenant_bounds"]
    assert_equal 1, tb["max_tenants"]
    assert_operator tb["new_per_window"], :>, 0
    assert_operator tb["max_in_flight"], :>, 0
    c.close
    assert_raises(ArgumentError) do
      Oidc::Issuer.new(issuer: "https://a/{tenant}", tenants: :any,
                       tenant_bounds: { max_tenants: 1, new_per_window: 1, window: 1, max_in_flight: 1, max: 1 })
    end
    assert_raises(TypeError) { Oidc::Issuer.new(issuer: "https://a/{tenant}", tenant_bounds: 5) }
    # a negative count is not wrapped into a huge uint32_t
    e = assert_raises(ArgumentError) do
      Oidc::Issuer.new(issuer: "https://a/{tenant}", tenants: :any,
                       tenant_bounds: { max_tenants: 1, new_per_window: 1, window: -1, max_in_flight: 1 })
    end
    assert_match(/window/, e.message)
    assert_raises(ArgumentError) do
      Oidc::Issuer.new(issuer: "https://a/{tenant}", tenants: :any,
                       tenant_bounds: { max_tenants: "many", new_per_window: 1, window: 1, max_in_flight: 1 })
    end
  end

  # A bad tenant or an unusable combination is refused by liboidc, at Issuer.new or Client.new.
  def test_liboidc_judges_the_issuer_settings
    e = assert_raises(Oidc::Error) do
      ib = Oidc::Issuer.new(issuer: "https://a/{tenant}", tenants: ["bad tenant!"])
      Oidc::Client.new(audiences: "api", issuers: [ib])
    end
    assert_equal "INVALID_CONFIG", e.name, e.message
    # a template without tenants (neither a list nor :any) never builds
    e = assert_raises(Oidc::Error) do
      Oidc::Client.new(audiences: "api", issuers: [Oidc::Issuer.new(issuer: "https://a/{tenant}")])
    end
    assert_equal "INVALID_CONFIG", e.name, e.message
  end

  def test_an_issuer_is_consumed_once
    v = multi_vectors
    a = Oidc::Issuer.new(**multi_issuer_keywords(v["issuers"][0]))
    refute a.added?
    client = Oidc::Client.new(audiences: v["config"]["audiences"], issuers: [a])
    assert a.added?
    e = assert_raises(Oidc::ClosedError) { Oidc::Client.new(audiences: "api", issuers: [a]) }
    assert_match(/already added/, e.message)
    assert_kind_of Oidc::UsageError, e
    # the client that took it is unaffected; closing the consumed issuer is harmless
    before = Oidc::Handle.freed_by(:oidc_issuer_builder_free)
    a.close
    a.close
    assert_equal before, Oidc::Handle.freed_by(:oidc_issuer_builder_free), "a consumed issuer is liboidc's to free"
    ok = v["cases"].find { |c| c["code"].zero? && c["name"].start_with?("issuer A") }
    assert_equal v["issuers"][0]["issuer"], client.validate_at(ok["token"], v["now"]).issuer
    client.close
  end

  def test_a_closed_issuer_cannot_be_added
    before = Oidc::Handle.freed_by(:oidc_issuer_builder_free)
    i = Oidc::Issuer.new(issuer: "https://a.example")
    i.close
    i.close
    assert i.closed?
    assert_equal before + 1, Oidc::Handle.freed_by(:oidc_issuer_builder_free)
    e = assert_raises(Oidc::ClosedError) { Oidc::Client.new(audiences: "api", issuers: [i]) }
    assert_match(/closed/, e.message)
  end

  # Client.new consumes its issuers also when it fails; the ones it did not hand to liboidc
  # are freed (counted), and a bad entry stops it before any issuer is taken.
  def test_issuers_are_consumed_and_freed_when_new_fails
    a = Oidc::Issuer.new(issuer: "https://a.example")
    b = Oidc::Issuer.new(issuer: "https://b.example")
    before = Oidc::Handle.freed_by(:oidc_issuer_builder_free)
    assert_raises(Oidc::InvalidConfig) { Oidc::Client.new(policy: "{}", issuers: [a, b]) }
    assert a.added? && b.added?
    assert_equal before + 2, Oidc::Handle.freed_by(:oidc_issuer_builder_free)

    c = Oidc::Issuer.new(issuer: "https://c.example")
    assert_raises(TypeError) { Oidc::Client.new(audiences: "api", issuers: [c, 42]) }
    refute c.added?, "a bad entry is found before any issuer is taken"
    assert_raises(TypeError) { Oidc::Client.new(audiences: "api", issuers: [{ issuer: nil }]) }
    assert_raises(ArgumentError) { Oidc::Client.new(audiences: "api", issuers: [{ issuer: "https://x", colour: 1 }]) }
    c.close
  end

  # No own issuer and no added one: liboidc refuses to build (the binding does not decide).
  def test_no_issuer_at_all
    e = assert_raises(Oidc::Error) { Oidc::Client.new(audiences: "api") }
    assert_kind_of Oidc::ConfigError, e
  end

  # Forgotten issuers are freed by the GC.
  def test_gc_frees_unused_issuers
    before = Oidc::Handle.freed_by(:oidc_issuer_builder_free)
    n = 200
    -> { n.times { |k| Oidc::Issuer.new(issuer: "https://gc#{k}.example", audiences: "api") } }.call
    freed = 0
    20.times do
      GC.start(full_mark: true, immediate_sweep: true)
      sleep 0.02
      freed = Oidc::Handle.freed_by(:oidc_issuer_builder_free) - before
      break if freed >= n * 0.9
    end
    assert_operator freed, :>=, (n * 0.9).to_i
  end
end
