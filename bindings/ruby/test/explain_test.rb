# frozen_string_literal: true

require_relative "test_helper"

# Explain mode over multi_issuer.json: liboidc's check-by-check account, parsed into a Hash,
# agreeing with validation; it names the chosen issuer and never holds the token.
class ExplainTest < Minitest::Test
  include TestSupport

  def setup
    @client = multi_client
    @v = multi_vectors
  end

  def teardown
    @client&.close
  end

  def by_name(name)
    @v["cases"].find { |c| c["name"] == name } or flunk("no vector #{name.inspect}")
  end

  def refute_token_in(text, token)
    refute_includes text, token
    token.split(".").each do |part|
      refute_includes text, part, "a token segment leaked" if part.size > 16
    end
  end

  def test_allowed_case_names_its_issuer
    c = by_name("issuer B, B's key")
    text = @client.explain_json(c["token"], now: @v["now"])
    assert_kind_of String, text
    refute_token_in(text, c["token"])
    d = @client.explain(c["token"], now: Time.at(@v["now"]))
    assert_equal JSON.parse(text), d
    assert_equal "allow", d["decision"]
    assert_equal @v["issuers"][1]["issuer"], d.dig("issuer", "iss")
    assert_equal "exact", d.dig("issuer", "chosen")
    assert_kind_of Integer, d.dig("issuer", "index")
    refute_empty d["checks"]
    assert d["checks"].all? { |x| %w[pass skipped].include?(x["outcome"]) }, d["checks"].inspect
  end

  def test_denied_case_names_its_issuer_and_the_failing_check
    c = by_name("issuer B with A's audience")
    assert_equal "AUDIENCE_MISMATCH", c["expect"]
    text = @client.explain_json(c["token"], now: @v["now"])
    refute_token_in(text, c["token"])
    d = JSON.parse(text)
    assert_equal "deny", d["decision"]
    assert_equal @v["issuers"][1]["issuer"], d.dig("issuer", "iss")
    assert_equal "exact", d.dig("issuer", "chosen")
    failed = d["checks"].select { |x| x["outcome"] == "fail" }
    refute_empty failed
    assert(failed.any? { |x| x["check"].include?("aud") }, failed.inspect)
    # an unknown issuer: none chosen
    u = @client.explain(by_name("unknown issuer")["token"], now: @v["now"])
    assert_equal "deny", u["decision"]
    assert_equal "none", u.dig("issuer", "chosen")
  end

  # For every vector, explain's decision agrees with validation's outcome.
  def test_decision_agrees_with_validation_for_every_case
    @v["cases"].each do |c|
      text = @client.explain_json(c["token"], now: @v["now"])
      refute_token_in(text, c["token"]) if c["token"].size > 16
      assert_equal c["code"].zero? ? "allow" : "deny", JSON.parse(text)["decision"], c["name"]
    end
  end

  # One client explains and exports from several threads at once (GVL released in liboidc).
  def test_concurrent_explain_and_export
    expected = @v["cases"].to_h { |c| [c["name"], c["code"].zero? ? "allow" : "deny"] }
    policy = @client.policy_json
    results = Array.new(4) do
      Thread.new do
        Array.new(5) do
          [@v["cases"].to_h { |c| [c["name"], @client.explain(c["token"], now: @v["now"])["decision"]] },
           @client.policy_json]
        end
      end
    end.flat_map(&:value)
    results.each do |decisions, exported|
      assert_equal expected, decisions
      assert_equal policy, exported
    end
  end

  # The time matters (exp is checked as of now:): far in the future every token is refused.
  def test_now_is_passed_on
    c = by_name("issuer A, A's key")
    assert_equal "allow", @client.explain(c["token"], now: @v["now"])["decision"]
    assert_equal "deny", @client.explain(c["token"], now: @v["now"] + (10 * 365 * 86_400))["decision"]
  end

  def test_authenticate_explain
    ok = by_name("issuer A, A's key")
    d = @client.authenticate_explain(method: "GET", url: "https://api.example/items",
                                     authorization: "Bearer #{ok['token']}", now: @v["now"])
    assert_equal "allow", d["decision"]
    assert_equal @v["issuers"][0]["issuer"], d.dig("token", "issuer", "iss")
    refute_token_in(JSON.generate(d), ok["token"])

    bad = by_name("issuer A with B's audience")
    text = @client.authenticate_explain_json(method: "GET", url: "https://api.example/items",
                                             authorization: "Bearer #{bad['token']}", now: @v["now"])
    refute_token_in(text, bad["token"])
    d = JSON.parse(text)
    assert_equal "deny", d["decision"]
    assert_equal "deny", d.dig("token", "decision")

    none = @client.authenticate_explain(method: "GET", url: "https://api.example/items", now: @v["now"])
    assert_equal "deny", none["decision"]
    # the same answer as #authenticate for the same request
    decision = @client.authenticate(method: "GET", url: "https://api.example/items",
                                    authorization: "Bearer #{ok['token']}", now: @v["now"])
    assert decision.allowed?
  end

  # --- misuse ---

  def test_explain_misuse
    assert_raises(TypeError) { @client.explain(nil) }
    assert_raises(TypeError) { @client.explain(42) }
    assert_raises(TypeError) { @client.explain_json(nil) }
    # invalid UTF-8 is a token liboidc refuses, explained as such
    d = @client.explain("\xff\xfe.\xff.\xff".b, now: @v["now"])
    assert_equal "deny", d["decision"]
    assert_equal "deny", @client.explain("", now: @v["now"])["decision"]
    assert_raises(TypeError) do
      @client.authenticate_explain(method: "GET", url: "https://api.example/", authorization: 42)
    end
    assert_raises(Oidc::InvalidArgument) do
      @client.authenticate_explain(method: "GET", url: "not a url", authorization: "Bearer x")
    end
    assert_raises(TypeError) { @client.authenticate_explain(method: "GET", url: nil) }
    c = multi_client
    c.close
    assert_raises(Oidc::ClosedError) { c.explain(by_name("issuer A, A's key")["token"]) }
    assert_raises(Oidc::ClosedError) { c.authenticate_explain(method: "GET", url: "https://api.example/") }
  end
end
