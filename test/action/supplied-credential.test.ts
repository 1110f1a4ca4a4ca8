/**
 * supplyCredential (src/azure/live/session.ts): the credential an embedding program (the GitHub
 * Action's OIDC sign-in) gives every later session, used only when --auth is not given.
 */
import type { TokenCredential } from "@azure/core-auth";
import { afterEach, describe, expect, it } from "vitest";
import { RenewableCredential } from "../../src/azure/live/resilience.js";
import { createSession, supplyCredential } from "../../src/azure/live/session.js";
import { UsageError } from "../../src/util/errors.js";

const refusing: TokenCredential = {
  getToken: async () => {
    throw new Error("AADSTS70021: No matching federated identity record found for presented assertion.");
  },
};

afterEach(() => supplyCredential(undefined));

describe("supplyCredential", () => {
  it("is the session's credential when --auth is not given", () => {
    supplyCredential({ name: "the runner's OIDC token", credential: refusing, fix: "add a federated credential" });
    const s = createSession({});
    expect(s.credentialName).toBe("the runner's OIDC token");
    // Wrapped so that a token the service refuses mid-scan can be renewed (resilience.ts).
    expect(s.credential).toBeInstanceOf(RenewableCredential);
    expect((s.credential as RenewableCredential).inner).toBe(refusing);
  });

  it("yields to a pinned --auth", () => {
    supplyCredential({ name: "the runner's OIDC token", credential: refusing, fix: "x" });
    expect(createSession({ auth: "cli" }).credentialName).toBe("AzureCliCredential");
  });

  it("fails sign-in in one sentence with Entra ID's reason and its own fix", async () => {
    supplyCredential({ name: "the runner's OIDC token", credential: refusing, fix: "add a federated credential" });
    const e = await createSession({})
      .verify()
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UsageError);
    expect((e as Error).message).toBe(
      "could not sign in with the runner's OIDC token: AADSTS70021: No matching federated identity record found for presented assertion. To fix: add a federated credential",
    );
  });

  it("is gone once cleared", () => {
    supplyCredential({ name: "the runner's OIDC token", credential: refusing, fix: "x" });
    supplyCredential(undefined);
    expect(createSession({}).credentialName).toBe("DefaultAzureCredential");
  });
});
