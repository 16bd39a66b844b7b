export { maskToken } from "./mask.js";
export { resolveToken, describeTokenSource, type ResolvedToken, type TokenSource } from "./token-chain.js";
export { readTokenFile, writeTokenFile, deleteTokenFile, tokenFilePath } from "./token-file.js";
export { readOfficialCookieToken, officialCookiesPath } from "./official-cookies.js";
export { readAccounts, saveAccount, switchAccount, removeAccounts, activeAccount, sameEndpoint, accountsPath, type Account, type AccountStore, type SaveResult, type RemoveResult } from "./accounts.js";
export { writeOfficialLogin, deleteOfficialLogin } from "./official-login.js";
