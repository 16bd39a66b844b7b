// The one table from error to message: each error class becomes one line and a fix, in English or Chinese.
// The library throws; the CLI speaks. Nothing here ever prints a token.
import {
  AbortedError,
  AccessDeniedError,
  BadResponseError,
  CommitRefusedError,
  ConfigError,
  ConfigSecretError,
  ConnectionFailedError,
  ConnectionTimeoutError,
  CorruptCacheError,
  DownloadFailedError,
  FileChangedError,
  IntegrityError,
  InvalidTokenError,
  LocalWriteError,
  NotFoundError,
  NotLoggedInError,
  OfflineCacheMissError,
  RateLimitError,
  RepoExistsError,
  RepoMissingError,
  ServerError,
  UnsafeLocalFileError,
  UploadFailedError,
  UsageError,
  ModelScopeError,
  WriteDeniedError,
  formatConfigProblem,
  localWriteError,
} from "../errors.js";
import { DEFAULT_ENDPOINT, TOKEN_PAGE_URL, modelscopeHome } from "../settings.js";
import { forTerminal } from "../util/terminal-text.js";
import { clashOf, touchesHome } from "./local-errors.js";

export type Lang = "en" | "zh";

export interface Explained {
  /** One line, starting with "Error: " (en) or "错误：" (zh); config errors add one line per problem. */
  line: string;
  fix: string;
  exitCode: number;
}

export interface ExplainContext {
  endpoint?: string | undefined;
  /** For a NotFoundError: names that do exist (files near the one asked for, or the model's revisions). */
  suggestions?: { kind: "file" | "revision"; names: string[] } | undefined;
  /** The token in use came from MODELSCOPE_API_TOKEN (not a flag or a saved login): a rejection names it. */
  tokenFromEnv?: boolean | undefined;
}

/** The hub in use when it is not modelscope.cn, for fixes that must not send people to the wrong site. */
function otherHub(ctx: ExplainContext): string | undefined {
  return ctx.endpoint && ctx.endpoint !== DEFAULT_ENDPOINT ? ctx.endpoint : undefined;
}

type Text = { en: string; zh: string };

function modelPage(ctx: ExplainContext, id: string | undefined): string {
  const base = ctx.endpoint ?? DEFAULT_ENDPOINT;
  return id ? `${base}/models/${id}` : base;
}

/** Turns any thrown value into what the CLI prints. */
export function explain(err: unknown, lang: Lang, ctx: ExplainContext = {}): Explained {
  const pick = (t: Text) => t[lang];
  const out = (line: Text, fix: Text, exitCode = 1): Explained => ({
    line: (lang === "zh" ? "错误：" : "Error: ") + pick(line),
    fix: pick(fix),
    exitCode,
  });
  const id = (err as { subject?: { modelId?: string } })?.subject?.modelId;

  const hub = otherHub(ctx);
  if (err instanceof InvalidTokenError) {
    if (ctx.tokenFromEnv) {
      return out(
        { en: "Invalid token (from MODELSCOPE_API_TOKEN)", zh: "Token无效（来自环境变量 MODELSCOPE_API_TOKEN）" },
        {
          en: `${hub ?? "the hub"} rejects the token in MODELSCOPE_API_TOKEN: set it to a valid token, or unset it to use your saved login`,
          zh: `${hub ?? "服务器"} 拒绝了 MODELSCOPE_API_TOKEN 中的 token：请将其设为有效的 token，或取消设置以使用已保存的登录`,
        },
      );
    }
    return out(
      { en: "Invalid token", zh: "Token无效" },
      hub
        ? { en: `get a valid token for the hub at ${hub} and run \`modelscope login\``, zh: `请获取 ${hub} 的有效 token，然后运行 \`modelscope login\`` }
        : { en: `regenerate it at ${TOKEN_PAGE_URL} and run \`modelscope login\``, zh: `请在 ${TOKEN_PAGE_URL} 重新生成token，然后运行 \`modelscope login\`` },
    );
  }
  if (err instanceof NotLoggedInError) {
    return out(
      { en: `Not logged in${id ? ` (${id} needs a sign-in)` : ""}`, zh: `未登录${id ? `（${id} 需要登录）` : ""}` },
      hub
        ? { en: `run \`modelscope login\` to sign in to ${hub}, or set MODELSCOPE_API_TOKEN`, zh: `请运行 \`modelscope login\` 登录 ${hub}，或设置环境变量 MODELSCOPE_API_TOKEN` }
        : { en: "run `modelscope login`, or set MODELSCOPE_API_TOKEN", zh: "请运行 `modelscope login`，或设置环境变量 MODELSCOPE_API_TOKEN" },
    );
  }
  // publishing (create / upload)
  if (err instanceof RepoExistsError) {
    return out(
      { en: `Repository ${err.repoId} already exists`, zh: `仓库 ${err.repoId} 已存在` },
      { en: "pick another name, or pass --exist-ok to use the existing one", zh: "请换一个名称，或加 --exist-ok 使用已有的仓库" },
      2,
    );
  }
  if (err instanceof WriteDeniedError) {
    const owner = err.repoId.split("/")[0];
    return out(
      { en: `No permission to ${err.operation === "create" ? "create" : "write to"} ${err.repoId}`, zh: `没有${err.operation === "create" ? "创建" : "写入"} ${err.repoId} 的权限` },
      err.operation === "create"
        ? { en: `create it under your own user name, or ask an admin of '${owner}' to add you; \`modelscope whoami\` shows who you are signed in as`, zh: `请在自己的用户名下创建，或请 '${owner}' 的管理员添加你；\`modelscope whoami\` 可查看当前登录的账号` }
        : { en: `ask the owner of ${err.repoId} for write access; \`modelscope whoami\` shows who you are signed in as`, zh: `请向 ${err.repoId} 的所有者申请写权限；\`modelscope whoami\` 可查看当前登录的账号` },
    );
  }
  if (err instanceof RepoMissingError) {
    return out(
      { en: `Repository ${err.repoId} does not exist (or you cannot see it)`, zh: `仓库 ${err.repoId} 不存在（或你无权查看）` },
      { en: `create it first with \`modelscope create ${err.repoId}\` (private), or add --create-repo`, zh: `请先运行 \`modelscope create ${err.repoId}\`（私有）创建，或加 --create-repo` },
    );
  }
  if (err instanceof FileChangedError) {
    return out(
      { en: `${err.file} changed while it was being uploaded; nothing was committed`, zh: `${err.file} 在上传过程中被修改；没有提交任何内容` },
      { en: "wait until whatever writes it has finished, then run the upload again", zh: "请等写入该文件的程序结束后重新上传" },
    );
  }
  if (err instanceof CommitRefusedError) {
    return out(
      { en: `The hub refused the upload${err.serverMessage ? `: ${err.serverMessage}` : ""}; nothing was committed`, zh: `服务器拒绝了上传${err.serverMessage ? `：${err.serverMessage}` : ""}；没有提交任何内容` },
      { en: "check --revision (commits go to a branch, not a tag) and the paths; run again to retry", zh: "请检查 --revision（只能提交到分支，不能提交到标签）和文件路径；重新运行即可重试" },
    );
  }
  if (err instanceof UploadFailedError) {
    const first = err.failures[0]?.error;
    const inner = first ? explain(first, lang, ctx) : undefined;
    return out(
      {
        en: `${err.failures.length} file(s) failed to upload, nothing was committed: ${err.failures.map((f) => f.file).join(", ")}${inner ? ` (${inner.line.replace(/^Error: /, "")})` : ""}`,
        zh: `${err.failures.length} 个文件上传失败，没有提交任何内容：${err.failures.map((f) => f.file).join("，")}${inner ? `（${inner.line.replace(/^错误：/, "")}）` : ""}`,
      },
      { en: "run the same command again: blobs already sent are not sent twice", zh: "请重新运行同一命令：已上传的数据不会重复发送" },
    );
  }
  if (err instanceof ConnectionTimeoutError) {
    return out(
      { en: `Connection timeout (${err.url})`, zh: `连接超时（${err.url}）` },
      {
        en: "check the network connection; set HTTPS_PROXY if you need a proxy (timeouts: MODELSCOPE_API_TIMEOUT, MODELSCOPE_API_CONNECT_TIMEOUT)",
        zh: "请检查网络连接；如需代理，请设置 HTTPS_PROXY（超时设置：MODELSCOPE_API_TIMEOUT、MODELSCOPE_API_CONNECT_TIMEOUT）",
      },
    );
  }
  if (err instanceof ConnectionFailedError) {
    const origin = hub ?? (URL.canParse(err.url) ? new URL(err.url).origin : err.url);
    return out(
      { en: `Connection failed (${err.url}: ${err.reason})`, zh: `连接失败（${err.url}：${err.reason}）` },
      err.reason === "ECONNREFUSED"
        ? {
            en: `nothing answers at ${origin}: start the hub, or point --endpoint / MODELSCOPE_ENDPOINT at the right address`,
            zh: `${origin} 没有响应：请启动该服务，或用 --endpoint / MODELSCOPE_ENDPOINT 指向正确的地址`,
          }
        : { en: "check the network connection and the endpoint; set HTTPS_PROXY if you need a proxy", zh: "请检查网络连接和服务地址；如需代理，请设置 HTTPS_PROXY" },
    );
  }
  if (err instanceof AccessDeniedError) {
    const what = id ?? (lang === "zh" ? "该模型" : "this model");
    return out(
      { en: `Access denied${id ? ` (${id})` : ""}`, zh: `权限不足${id ? `（${id}）` : ""}` },
      hub
        ? { en: `make sure your account on ${hub} can access ${what}; sign in with \`modelscope login\``, zh: `请确认您在 ${hub} 上的账户有权限访问 ${what}；使用 \`modelscope login\` 登录` }
        : { en: `make sure your account can access ${what}; sign in with \`modelscope login\``, zh: `请确认您的账户有权限访问 ${what}；使用 \`modelscope login\` 登录` },
    );
  }
  if (err instanceof NotFoundError) {
    const page = modelPage(ctx, id);
    const names = ctx.suggestions?.names.join(", ");
    const suggested: Text | undefined = !names
      ? undefined
      : ctx.suggestions?.kind === "file"
        ? { en: `files with similar names: ${names}`, zh: `名称相近的文件：${names}` }
        : { en: `available revisions: ${names}; pass one with --revision`, zh: `可用的版本：${names}；请用 --revision 指定` };
    return out(
      { en: `Not found: ${err.what}`, zh: `未找到：${err.what}` },
      suggested ??
      (err.signedIn
        ? { en: `check the ID at ${page}; if it is private, ask its owner for access`, zh: `请在 ${page} 核对ID；如果是私有模型，请向其所有者申请访问权限` }
        : { en: `check the ID at ${page}; if it is private, sign in with \`modelscope login\``, zh: `请在 ${page} 核对ID；如果是私有模型，请先运行 \`modelscope login\` 登录` }),
    );
  }
  if (err instanceof RateLimitError) {
    return out({ en: "Rate limited by the hub", zh: "请求过于频繁，已被限流" }, { en: "try again later", zh: "请稍后再试" });
  }
  if (err instanceof ServerError) {
    return out(
      { en: `Hub error ${err.status}${err.serverMessage ? `: ${err.serverMessage}` : ""}`, zh: `服务器错误 ${err.status}${err.serverMessage ? `：${err.serverMessage}` : ""}` },
      { en: "try again later", zh: "请稍后再试" },
    );
  }
  if (err instanceof IntegrityError) {
    return out(
      { en: `Integrity check failed: ${err.file}`, zh: `完整性校验失败：${err.file}` },
      { en: "try again later; nothing corrupt was kept in the cache", zh: "请稍后重试；损坏的文件没有留在缓存中" },
    );
  }
  if (err instanceof LocalWriteError) {
    const zh: Record<string, string> = { ENOSPC: "磁盘空间不足", EDQUOT: "超出磁盘配额", EROFS: "文件系统只读", EACCES: "没有权限", EPERM: "操作不被允许", EIO: "输入/输出错误", EFBIG: "文件超出该文件系统的大小上限" };
    const full = err.code === "ENOSPC" || err.code === "EDQUOT" || err.code === "EFBIG";
    const home = modelscopeHome();
    return out(
      { en: err.message, zh: `无法写入 ${err.file}：${zh[err.code] ?? err.code}` },
      // The token and the official client's login live in MODELSCOPE_HOME, not in the cache.
      touchesHome(err.file, home)
        ? full
          ? { en: `free some space on the disk that holds ${home}, or set MODELSCOPE_HOME to a folder on another disk, then sign in again`, zh: `请释放 ${home} 所在磁盘的空间，或将 MODELSCOPE_HOME 设为其他磁盘上的文件夹，然后重新登录` }
          : { en: `check that you can write to ${home}, or set MODELSCOPE_HOME to a folder you can write to`, zh: `请确认对 ${home} 有写权限，或将 MODELSCOPE_HOME 设为可写的文件夹` }
        : full
        ? {
            en: "free some space, or download elsewhere with --cache-dir DIR (or MODELSCOPE_CACHE); run again to continue where it stopped",
            zh: "请释放磁盘空间，或用 --cache-dir DIR（或 MODELSCOPE_CACHE）下载到其他位置；重新运行即可从中断处继续",
          }
        : {
            en: "check that you can write to that folder, or download elsewhere with --cache-dir DIR (or MODELSCOPE_CACHE)",
            zh: "请确认对该目录有写权限，或用 --cache-dir DIR（或 MODELSCOPE_CACHE）下载到其他位置",
          },
    );
  }
  if (err instanceof UnsafeLocalFileError) {
    const zh: Record<string, string> = { "a symbolic link": "符号链接", "a named pipe": "命名管道", "a folder": "文件夹" };
    return out(
      { en: err.message, zh: `拒绝通过 ${err.file} 写入：它是${zh[err.found] ?? err.found}，不是本工具创建的文件` },
      {
        en: `remove it (rm -- '${err.file}') and run again; if you did not put it there, someone who can write to that folder may be tampering with it`,
        zh: `请删除它（rm -- '${err.file}'）后重新运行；如果不是你放的，可能有能写入该目录的人在篡改它`,
      },
    );
  }
  if (err instanceof CorruptCacheError) {
    const model = id ?? "MODEL_ID";
    const rev = err.subject.revision && err.subject.revision !== "master" ? ` --revision ${err.subject.revision}` : "";
    const scope = `${model}${rev}${err.where}`;
    // The files themselves, so that --force fetches only them.
    const files = err.files.map((f) => (/^[\w./-]+$/.test(f.path) ? f.path : `'${f.path.replace(/'/g, "'\\''")}'`)).join(" ");
    const rm = err.where.includes("--local-dir") ? undefined : `modelscope cache rm ${model}${rev}${err.where}`;
    return out(
      { en: err.message, zh: `${err.files.length} 个缓存文件与服务器不一致：${err.files.map((f) => `${f.path}（${corruptProblemZh(f.problem)}）`).join("，")}` },
      {
        en: `download them again with \`modelscope download ${scope} ${files} --force\` (or \`modelscope cache verify ${scope} --repair\`)${rm ? `, or drop the model with \`${rm}\`` : ""}`,
        zh: `用 \`modelscope download ${scope} ${files} --force\`（或 \`modelscope cache verify ${scope} --repair\`）重新下载${rm ? `，或用 \`${rm}\` 删除该模型` : ""}`,
      },
    );
  }
  if (err instanceof DownloadFailedError) {
    const first = err.failures[0]?.error;
    const inner = first ? explain(first, lang, ctx) : undefined;
    return out(
      {
        en: `${err.failures.length} file(s) failed to download: ${err.failures.map((f) => f.file).join(", ")}${inner ? ` (${inner.line.replace(/^Error: /, "")})` : ""}`,
        zh: `${err.failures.length} 个文件下载失败：${err.failures.map((f) => f.file).join("，")}${inner ? `（${inner.line.replace(/^错误：/, "")}）` : ""}`,
      },
      { en: inner?.fix ?? "run the same command again: finished files are kept", zh: inner?.fix ?? "请重新运行同一命令：已完成的文件会保留" },
    );
  }
  if (err instanceof OfflineCacheMissError) {
    return out(
      { en: `Offline, and not in the cache: ${err.missing.join(", ")}`, zh: `离线模式，缓存中没有：${err.missing.join("，")}` },
      { en: "run without --offline (and unset MODELSCOPE_OFFLINE) to download it", zh: "去掉 --offline（并取消 MODELSCOPE_OFFLINE）以下载" },
    );
  }
  if (err instanceof ConfigSecretError) {
    return {
      line: configProblemLines(err, lang),
      fix:
        lang === "zh"
          ? "不要在配置文件中保存token：删除它，然后运行 `modelscope login` 登录，或设置环境变量 MODELSCOPE_API_TOKEN"
          : "never keep a token in a config file: delete it, then sign in with `modelscope login` or set MODELSCOPE_API_TOKEN",
      exitCode: 2,
    };
  }
  if (err instanceof ConfigError) {
    return {
      line: configProblemLines(err, lang),
      fix: lang === "zh" ? "请按提示修改配置文件后重试" : "fix the config as shown, then run the command again",
      exitCode: 2,
    };
  }
  if (err instanceof UsageError) {
    if (lang === "en") return { line: `Error: ${err.message}`, fix: err.fix ?? "see --help for usage", exitCode: 2 };
    const zh = usageZh(err);
    return { line: `错误：${zh?.line ?? err.message}`, fix: zh?.fix ?? err.fix ?? "运行 --help 查看用法", exitCode: 2 };
  }
  if (err instanceof BadResponseError) {
    return out(
      { en: err.message, zh: `服务器返回了无法使用的数据：${err.message}` },
      { en: "nothing was written; the hub sent something unsafe or malformed, report it to the hub's operator", zh: "没有写入任何文件；请向服务器运维方报告" },
    );
  }
  if (err instanceof AbortedError) {
    return { line: lang === "zh" ? "已中断" : "Interrupted", fix: lang === "zh" ? "重新运行即可从中断处继续" : "run it again to continue where it stopped", exitCode: 130 };
  }
  // Raw file-system errors a user can cause: a full disk anywhere (saving a token too), a file-and-folder clash.
  const raw = err as NodeJS.ErrnoException | undefined;
  const local = !(err instanceof ModelScopeError) && typeof raw?.path === "string" ? localWriteError(err, raw.path) : undefined;
  if (local) return explain(local, lang, ctx);
  const clash = err instanceof ModelScopeError ? undefined : clashOf(err);
  if (clash) {
    const b = clash.blocker;
    const inHome = touchesHome(b, modelscopeHome());
    return out(
      clash.is === "file"
        ? { en: `Cannot write there: ${b} is a file, but a folder is needed at that place`, zh: `无法写入：${b} 是文件，但此处需要文件夹` }
        : { en: `Cannot write there: ${b} is a folder, but a file must go at that place`, zh: `无法写入：${b} 是文件夹，但此处需要写入文件` },
      inHome
        ? { en: `move or delete ${b}, or set MODELSCOPE_HOME to another folder`, zh: `请移走或删除 ${b}，或将 MODELSCOPE_HOME 设为其他文件夹` }
        : { en: `move or delete ${b} (it is not from this download), or use another folder with --local-dir DIR or --cache-dir DIR`, zh: `请移走或删除 ${b}（它不属于本次下载），或用 --local-dir DIR 或 --cache-dir DIR 换一个文件夹` },
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  return out(
    { en: `Unexpected error: ${message}`, zh: `意外错误：${message}` },
    { en: "this is a bug in deepcompressor; please report it with the command you ran", zh: "这是 deepcompressor 的缺陷；请连同运行的命令一起报告" },
  );
}

/** What cache verify found wrong with a file (download/cache-manage.ts), in Chinese. */
function corruptProblemZh(problem: string): string {
  const size = /^(\d+) bytes, the hub says (\d+)$/.exec(problem);
  if (size) return `${size[1]} 字节，服务器为 ${size[2]} 字节`;
  return problem === "sha256 differs from the hub's" ? "sha256 与服务器的不一致" : problem;
}

const NO_CREDENTIALS_ZH = "凭据绝不应写在配置文件中：请删除它，然后用 `modelscope login` 登录或设置环境变量 MODELSCOPE_API_TOKEN";

/** Config problems are written in English by the library; here each known one gets its Chinese. */
const CONFIG_PROBLEMS_ZH: [RegExp, string][] = [
  [/^'(.+)' holds a credential: .*$/s, `'$1' 含有凭据：${NO_CREDENTIALS_ZH}`],
  [/^the value looks like a token: .*$/s, `该值看起来像 token：${NO_CREDENTIALS_ZH}`],
  [/^a list item looks like a token: .*$/s, `列表中的一项看起来像 token：${NO_CREDENTIALS_ZH}`],
  [/^is a credential: .*$/s, `是凭据：${NO_CREDENTIALS_ZH}`],
  [/^listed config '(.+)' is not a file$/, "列表中的配置 '$1' 不是文件"],
  [/^listed file '(.+)' is not a YAML config \(\.yaml or \.yml\)$/, "列表中的文件 '$1' 不是 YAML 配置（.yaml 或 .yml）"],
  [/^is not a file$/, "不是文件"],
  [/^no such file$/, "文件不存在"],
  [/^a blank line in an import list stops the Python DeepCompressor: remove it$/, "导入列表中的空行会让 Python 版 DeepCompressor 出错：请删除它"],
  [/^an import list has no comments .*$/, "导入列表不支持注释（Python 版 DeepCompressor 把每一行都当作路径）：请删除该行"],
  [/^listed config '(.+)' is not a file \(paths are relative to the working folder: write '(.+)'\)$/, "列表中的配置 '$1' 不是文件（路径相对于工作目录：请写成 '$2'）"],
  [/^listed file '(.+)' is not a config \(\.yaml, \.yml or \.toml\)$/, "列表中的文件 '$1' 不是配置文件（.yaml、.yml 或 .toml）"],
  [/^has an upper-case extension, .*: rename it to (.+)$/, "扩展名是大写，Python 版 DeepCompressor 会把它当作导入列表：请重命名为 $1"],
  [/^is outside the working folder, .*$/, "不在工作目录内，Python 版 DeepCompressor 不读取这样的配置：请在它的上级目录运行，或把它移到当前目录的子文件夹中"],
  [/^is directly in the working folder, .*$/, "直接位于工作目录中，Python 版 DeepCompressor 不读取这样的配置：请移到子文件夹（例如 configs/）"],
  [/^is empty \(or only comments\), .*$/, "是空文件（或只有注释），会让 Python 版 DeepCompressor 出错：请添加键，或删除该文件"],
  [/^is empty \(null\), .*$/, "为空（null），会让 Python 版 DeepCompressor 出错：请填写键（name、path 等）或删除它"],
  [/^is a mapping here but not in (.+), which stops .*$/, "此处是映射，但在 $1 中不是，Python 版 DeepCompressor 合并时会出错：请都写成映射"],
  [/^TOML syntax error: (.+)$/s, "TOML 语法错误：$1"],
  [/^its aliases \(\*name\) expand to more than (\d+) values, .*$/, "其中的别名（*name）展开后超过 $1 个值，像是别名炸弹：请直接写出这些值，或少用别名"],
  [/^alias \*(.+) names no anchor defined before it$/, "别名 *$1 之前没有定义对应的锚点"],
  [/^the tag (.+) is not one PyYAML's safe_load reads: remove it$/, "标签 $1 不是 PyYAML safe_load 能读取的：请删除它"],
  [/^a plain '(.+)' as a value stops PyYAML: put it in quotes$/, "值为不加引号的 '$1' 会让 PyYAML 出错：请加上引号"],
  [/^a merge key \(<<\) needs a mapping or a list of mappings$/, "合并键（<<）需要一个映射或映射列表"],
  [/^a key must be a plain value .*$/, "键必须是普通值（PyYAML 不能用列表或映射作为键）"],
  [/^nested more than (\d+) levels deep$/, "嵌套超过 $1 层"],
  [/^a key looks like a token: .*$/s, `某个键看起来像 token：${NO_CREDENTIALS_ZH}`],
  [/^a comment looks like it holds a token: .*$/s, `某条注释看起来含有 token：${NO_CREDENTIALS_ZH}`],
  [/^'(.+)' has no model size, .*$/, "'$1' 中没有模型大小，Python 版 DeepCompressor 需要它（\"Cannot infer size\"）：请命名为 <family>-<size>[-<variant>]，例如 my-model-7b 或 qwen-7b-chat"],
  [/^is not a key of the Python DeepCompressor's (\w+) config, which ignores it and uses its default: did you mean '(.+)'\?$/, "不是 Python 版 DeepCompressor 的 $1 配置中的键，它会忽略该键并使用默认值：是否应为 '$2'？"],
  [/^is not a key of the Python DeepCompressor's (\w+) config, which ignores it and uses its default$/, "不是 Python 版 DeepCompressor 的 $1 配置中的键，它会忽略该键并使用默认值"],
  [/^has no name, which the Python DeepCompressor needs .*$/, "没有 name，Python 版 DeepCompressor 需要它（例如 name: qwen-7b-chat）"],
  [/^no config file given$/, "未指定配置文件"],
  [/^cannot read: (.+)$/, "无法读取：$1"],
  [/^YAML syntax error: (.+)$/s, "YAML 语法错误：$1"],
  [/^the top level of a config must be a mapping \(key: value\)$/, "配置的顶层必须是映射（key: value）"],
  [/^(\w+) must be text \(put it in quotes if YAML reads it as a number or boolean\)$/, "$1 必须是文本（如果 YAML 把它读成了数字或布尔值，请加引号）"],
  [/^use_modelscope must be true or false$/, "use_modelscope 必须是 true 或 false"],
  [/^revision must not be empty$/, "revision 不能为空"],
  [/^(model|pipeline) must be a mapping of keys \(name, path, \.\.\.\)$/, "$1 必须是键值映射（name、path 等）"],
  [/^path is required when use_modelscope is true \(did you mean path: "(.+)"\?\)$/, 'use_modelscope 为 true 时必须填写 path（是否应为 path: "$1"？）'],
  [/^path is required when use_modelscope is true: .*$/, "use_modelscope 为 true 时必须填写 path：填写 ModelScope ID，例如 qwen/Qwen-7B-Chat"],
  [/^is a local path, but use_modelscope is true expects a ModelScope ID .*$/, "这是本地路径，但 use_modelscope 为 true 时需要 ModelScope ID（owner/name）：要使用本地文件夹，请删除 use_modelscope（或设为 false）"],
  [/^(.+) is not a ModelScope ID: .*$/, "$1 不是 ModelScope ID：请使用 owner/name 格式，例如 qwen/Qwen-7B-Chat"],
  [/^local folder (.+) does not exist$/, "本地文件夹 $1 不存在"],
  [/^(.+) is neither an existing folder nor a ModelScope ID .*$/, "$1 既不是已存在的文件夹，也不是 ModelScope ID（owner/name）；如要交给 Python 端处理，请设置 use_modelscope: false"],
];

/** One line per problem, with file:line:column and key, in the user's language. */
function configProblemLines(err: ConfigError, lang: Lang): string {
  return err.problems
    .map((p) => (lang === "zh" ? `错误：${formatConfigProblem({ ...p, message: configProblemZh(p.message) })}` : `Error: ${formatConfigProblem(p)}`))
    .join("\n");
}

export function configProblemZh(message: string): string {
  for (const [pattern, zh] of CONFIG_PROBLEMS_ZH) if (pattern.test(message)) return message.replace(pattern, zh);
  return message;
}

/**
 * Usage errors in Chinese, by the key a UsageError carries (`text`); the English is the error's own message
 * and fix, which library callers see. `{x}` is filled from the error's `vars`. A key missing here shows
 * the English.
 */
const USAGE_ZH: Record<string, { line: string; fix?: string }> = {
  badModelId: { line: "无效的模型 ID '{id}'", fix: "请使用 owner/name 的形式，例如 qwen/Qwen-7B-Chat" },
  badRevision: { line: "无效的版本 '{revision}'", fix: "请使用分支、标签或提交 ID，例如 master 或 v1.0" },
  badFilePath: { line: "无效的文件路径 '{path}'（{reason}）", fix: "请按模型中的路径写文件名，例如 config.json 或 weights/model.safetensors" },
  notInCache: { line: "缓存中没有 {id}（版本 {revision}）：{path}", fix: "请先用 `modelscope download` 下载" },
  emptyToken: { line: "token 不能为空", fix: "请从 https://modelscope.cn/my/myaccesstoken 复制你的 token" },
  tokenWithSpaces: { line: "token 不能包含空格或换行", fix: "请原样粘贴 https://modelscope.cn/my/myaccesstoken 上显示的 token" },
  hubRefused: { line: "服务器拒绝了请求（{status}）{said}", fix: "请检查命令中的模型 ID、版本和文件名" },
  flagTakesBool: { line: "{flag} 的值只能是 true 或 false", fix: "例如：{flag} true、{flag} false，或只写 {flag}（即 true）；配置文件请放在它前面或它的值后面" },
  flagTakesNumber: { line: "{flag} 需要一个数字，不能是 '{raw}'", fix: "例如：{flag} 1.0" },
  dcUnknownFlag: { line: "{flag} 不是 Python 版 DeepCompressor 的参数", fix: "{hint}{section} 的有效参数：{flags}" },
  dcNoNegation: { line: "{flag}：Python 版 DeepCompressor 没有 --no- 形式的参数", fix: "请写成 {positive} false" },
  flagNeedsValue: { line: "{flag} 需要一个值", fix: "例如：{flag} VALUE" },
  hubJsonInvalid: { line: "{path} 不是有效的 JSON：{detail}", fix: "请修正该文件，或删除它以公开提供所有模型" },
  hubJsonShape: { line: "{path}：{where}：{detail}", fix: "请修正该文件；格式见 README 的 “Local hub” 一节" },
  badUserName: { line: "无效的用户名 '{name}'", fix: "只能使用字母、数字、'.'、'_' 或 '-'（最多 100 个）" },
  userExists: { line: "用户 '{name}' 已存在于 {path}", fix: "换一个用户名，或先删除该用户：`modelscope serve user rm {name} --root DIR`" },
  rmNeedsYes: { line: "未经确认，拒绝删除 {scope}", fix: "传入 -y 可不经询问直接删除" },
  badPtqKind: { line: "未知的 ptq 类型 '{kind}'", fix: "请使用 `deepcompressor ptq llm CFG...` 或 `deepcompressor ptq diffusion CFG...`" },
  noConfig: { line: "没有指定配置文件", fix: "请传入一个或多个 DeepCompressor YAML 文件，例如 `deepcompressor fetch examples/llm/qwen-7b-chat.yaml`" },
  badMaxWorkers: { line: "无效的 --max-workers '{value}'", fix: "请使用 1 到 64 之间的整数" },
  modelAndDataset: { line: "--model 和 --dataset 只能使用其一", fix: "例如 `modelscope download --dataset owner/name`" },
  badRepoType: { line: "无效的 --repo-type '{value}'", fix: "请使用 model 或 dataset" },
  repoTypeTwice: { line: "--repo-type 给了两次且值不同", fix: "只给一次：model 或 dataset" },
  repoTypeContradicts: { line: "{flag} 与 --repo-type {type} 矛盾", fix: "去掉 --repo-type，或改用 --{type} ID" },
  repoIdRequired: { line: "没有指定仓库 ID", fix: "例如 `modelscope download owner/name` 或 `modelscope download --dataset owner/name`" },
  badAccountName: { line: "无效的账号名 '{name}'", fix: "只能使用字母、数字、'.'、'_'、'-'、'@' 或 ':'（最多 100 个）" },
  noSuchAccount: { line: "没有保存的账号 '{name}'", fix: "已保存：{known}（见 `modelscope auth list`）" },
  noAccounts: { line: "没有保存的账号 '{name}'", fix: "请先登录：`modelscope login --name NAME`" },
  filesAndGlobs: { line: "文件名和 --include/--exclude 不能同时使用", fix: "例如 `modelscope download owner/name config.json` 或 `--include '*.json'`" },
  tokenFlagsBoth: { line: "--token 和 --token-stdin 只能使用其一", fix: "去掉其中一个" },
  badPort: { line: "无效的端口 '{value}'", fix: "请使用 0 到 65535 之间的数字（0 表示自动选择空闲端口）" },
  serveNeedsRoot: { line: "缺少 --root", fix: "请传入要提供的文件夹，例如 `modelscope serve --root ~/.cache/modelscope`" },
  badThreshold: { line: "无效的 --redirect-threshold-mb '{value}'", fix: "请使用以 MiB 为单位的数字，例如 8" },
  patternMatchesNothing: { line: "{flag} '{pattern}' 没有匹配模型中的任何文件", fix: "名称相近的文件：{near}" },
  patternMatchesNothingNoNear: { line: "{flag} '{pattern}' 没有匹配模型中的任何文件", fix: "去掉 --include/--exclude 并加上 --dry-run 运行，即可列出所有文件" },
  badShell: { line: "未知的 shell '{shell}'", fix: "请使用 bash、zsh 或 fish，例如 `modelscope completion bash >> ~/.bashrc`" },
  flagValueIsFlag: { line: "{flag} 需要一个值，但得到的是选项 {value}", fix: "请给 {flag} 一个值，例如 {flag} VALUE" },
  badRepoId: { line: "无效的仓库 ID '{id}'", fix: "请使用 owner/name 的形式，名称由字母、数字、'_'、'.'、'-' 组成，例如 alice/my-model" },
  createRefused: { line: "服务器拒绝创建 {id}{said}", fix: "请检查名称、许可证和可见性" },
  tagRefused: { line: "服务器拒绝了标签 '{tag}'{said}", fix: "请换一个标签名，并确认分支或提交存在" },
  badTagName: { line: "无效的标签名 '{tag}'", fix: "请使用字母、数字、'.'、'_' 或 '-'，例如 v1.0" },
  badPathInRepo: { line: "无效的仓库内路径 '{path}'", fix: "请使用普通的相对路径，例如 weights/ 或留空表示根目录" },
  badLocalName: { line: "无法上传 {path}：文件名含有仓库路径不允许的字符", fix: "请重命名该文件，或用 --exclude 排除它" },
  notAFile: { line: "{path} 不是文件", fix: "请传入要上传的文件或文件夹" },
  notAFolder: { line: "{path} 不是文件夹", fix: "请传入要上传的文件夹" },
  nothingToUpload: { line: "{path} 中没有可上传的文件", fix: "请检查文件夹以及 --include/--exclude 规则" },
  noSuchLocalPath: { line: "{path} 不存在", fix: "请传入已存在的文件或文件夹" },
  badVisibility: { line: "无效的 --visibility '{value}'", fix: "请使用 private、internal 或 public" },
  noSuchFolder: { line: "文件夹不存在：{path}", fix: "请传入 ModelScope 缓存文件夹（models/<owner>--<name>/snapshots/<revision>/...），例如 ~/.cache/modelscope" },
  badUpstream: { line: "无效的 --upstream '{value}'", fix: "请给出上游 hub 的地址，例如 https://modelscope.cn 或 http://10.0.0.5:8777" },
  badMirrorTtl: { line: "无效的 --mirror-ttl '{value}'", fix: "请使用秒数，例如 60" },
  noSuchUser: { line: "{path} 中没有用户 '{name}'", fix: "用 `modelscope serve user list --root DIR` 查看用户" },
  badAccessId: { line: "无效的 ID '{id}'", fix: "请使用 owner/name 的形式，例如 acme/llama-7b" },
  badAccessLevel: { line: "未知的可见性 '{value}'", fix: "请使用 private、gated 或 public" },
  badOrgName: { line: "无效的组织名 '{name}'", fix: "只能使用字母、数字、'.'、'_' 或 '-'（最多 100 个）" },
  orgIsUser: { line: "'{name}' 已是一个用户名", fix: "组织需要一个自己的名字" },
  noSuchOrg: { line: "{path} 中没有组织 '{name}'", fix: "用 `modelscope serve org list --root DIR` 查看组织" },
  hubJsonBusy: { line: "{path} 正在被另一个命令修改", fix: "请稍后再试" },
  rootUnreadable: { line: "无法读取文件夹 {path}", fix: "请提供运行 hub 的用户可读的文件夹，或修正其权限" },
  hubSecretOpen: { line: "{path} 必须是只有其所有者可读的普通文件", fix: "chmod 600 {path}；或停止此目录上的所有 hub 进程后删除它，以生成新的" },
  hubSecretBad: { line: "{path} 不是 hub 密钥（32 字节）", fix: "停止此目录上的所有 hub 进程，删除该文件，再启动 hub：会生成新的密钥" },
  hubJsonUnreadable: { line: "无法读取 {path}（{code}）", fix: "请让运行 hub 的用户可以读取该文件，或删除它以公开提供所有模型" },
  portInUse: { line: "{host} 上的端口 {port} 已被占用", fix: "请用 --port N 换一个端口（--port 0 自动选择空闲端口），或停止占用它的程序" },
  portDenied: { line: "无权监听端口 {port}", fix: "请使用大于 1023 的端口，例如 --port 8777" },
  badHost: { line: "无法监听 {host}：不是本机的地址", fix: "请使用 --host 127.0.0.1（仅本机）或 --host 0.0.0.0（所有网络）" },
  badPublicUrl: { line: "无效的 --public-url '{value}'", fix: "请给出客户端访问 hub 的地址，例如 http://hub.lab.example:8777 或 https://models.lab.example" },
  publicWithUsers: { line: "公开仓库不接受 --users：所有人都可以查看和下载", fix: "去掉 --users，或改为 private 或 gated" },
  badUserEmail: { line: "无效的 --email：为空、含有控制字符或超过 254 个字符", fix: "请给出普通的地址，例如 alice@lab.example" },
  upstreamIsSelf: { line: "--upstream {url} 指回了这个 hub 自己", fix: "请给出另一个 hub 的地址：modelscope.cn 或另一个 `modelscope serve`（使用它自己的 --root）" },
  mirrorTtlAlone: { line: "--mirror-ttl 只在使用 --upstream 时有效", fix: "加上 --upstream URL 以运行镜像，或去掉 --mirror-ttl" },
  accessLogUnwritable: { line: "无法写入访问日志 {path}（{code}）", fix: "请指定 hub 的运行用户可写的文件夹中的文件，或使用 --access-log off" },
  badServeNumber: { line: "无效的 {flag} '{value}'", fix: "请使用不小于 {min} 的整数" },
};

/** A usage error's Chinese line and fix, filled with its values; undefined when it has no translation. */
function usageZh(err: UsageError): { line: string; fix?: string } | undefined {
  const entry = err.text ? USAGE_ZH[err.text.key] : undefined;
  if (!entry) return undefined;
  const vars = { ...err.text?.vars };
  if (vars.reason !== undefined) vars.reason = PATH_REASON_ZH[vars.reason] ?? vars.reason;
  return { line: fillVars(entry.line, vars), fix: entry.fix && fillVars(entry.fix, vars) };
}

/** What is wrong with an unsafe path (hub/repo-path.ts unsafePathReason), in Chinese. */
const PATH_REASON_ZH: Record<string, string> = {
  "empty path": "路径为空",
  "NUL byte": "含 NUL 字节",
  "control character": "含控制字符",
  backslash: "含反斜杠",
  "absolute path": "是绝对路径",
  "'..' segment": "含 '..'",
  "empty or '.' segment": "含空的或 '.' 路径段",
  "path too long": "路径过长",
};

/** User-facing strings of the commands (auth, configs, download, cache), in both languages. `{x}` is filled from `vars`. */
const TEXT = {
  loggedInAs: { en: "Logged in as {user}.", zh: "登录成功：{user}。" },
  tokenSavedTo: { en: "Token saved to {path}.", zh: "Token 已保存到 {path}。" },
  tokenFlagHint: {
    en: "Note: a token passed with --token can end up in shell history and process lists; prefer `--token-stdin` or MODELSCOPE_API_TOKEN.",
    zh: "提示：通过 --token 传入的 token 可能留在 shell 历史和进程列表中；建议使用 `--token-stdin` 或环境变量 MODELSCOPE_API_TOKEN。",
  },
  envOverridesSaved: {
    en: "Note: MODELSCOPE_API_TOKEN is set and is used before the saved token.",
    zh: "提示：已设置 MODELSCOPE_API_TOKEN，它优先于保存的 token。",
  },
  noTerminal: { en: "No terminal to prompt for the token", zh: "没有可用于输入 token 的终端" },
  noTerminalFix: {
    en: 'pipe it in with `--token-stdin` (e.g. `printf %s "$TOKEN" | modelscope login --token-stdin`) or set MODELSCOPE_API_TOKEN',
    zh: '请用 `--token-stdin` 从标准输入传入（例如 `printf %s "$TOKEN" | modelscope login --token-stdin`），或设置 MODELSCOPE_API_TOKEN',
  },
  loginAborted: { en: "Login aborted.", zh: "已取消登录。" },
  loggedOut: { en: "Logged out: removed {path}.", zh: "已退出登录：已删除 {path}。" },
  notLoggedInNothingToDo: { en: "Not logged in: no saved token to remove.", zh: "未登录：没有需要删除的 token。" },
  envStillSignsIn: {
    en: "Note: MODELSCOPE_API_TOKEN is set and still signs you in; unset it to sign out fully.",
    zh: "提示：环境变量 MODELSCOPE_API_TOKEN 仍然有效，取消设置它才会完全退出登录。",
  },
  officialStillSignsIn: {
    en: "Note: the official client's login ({path}) still signs you in; delete that file to sign out fully.",
    zh: "提示：官方客户端的登录信息（{path}）仍然有效，删除该文件才会完全退出登录。",
  },
  accountSaved: { en: "Saved as account '{name}' (active); the official client is signed in too.", zh: "已保存为账号 '{name}'（当前使用），官方客户端也已登录。" },
  accountKeptOther: {
    en: "Note: account '{other}' (for {endpoint}) is kept; switch back with `modelscope auth switch {other}`.",
    zh: "提示：账号 '{other}'（{endpoint}）仍保留，可用 `modelscope auth switch {other}` 切换回去。",
  },
  accountReplaced: { en: "Note: replaced account '{name}', which was for {endpoint}.", zh: "提示：已替换账号 '{name}'（原为 {endpoint}）。" },
  accountKeptEarlier: { en: "Note: your earlier login is kept as account '{name}'.", zh: "提示：之前的登录已保存为账号 '{name}'。" },
  accountSwitched: { en: "Switched to account '{name}' ({user} on {endpoint}).", zh: "已切换到账号 '{name}'（{endpoint} 上的 {user}）。" },
  accountsNone: { en: "No saved accounts. Run: modelscope login", zh: "没有保存的账号。请运行: modelscope login" },
  accountsLoggedOut: { en: "Logged out: removed {names}.", zh: "已退出登录：已删除 {names}。" },
  tokenOtherEndpoint: {
    en: "Warning: the saved token was checked against {saved}, not {endpoint} (see `modelscope auth list`).",
    zh: "警告：保存的 token 是在 {saved} 上验证的，而不是 {endpoint}（见 `modelscope auth list`）。",
  },
  statusLoggedIn: { en: "✅ Logged in to ModelScope as {user}", zh: "✅ ModelScope已登录：{user}" },
  statusTokenPresent: { en: "✅ ModelScope token present (not checked with the hub: --offline)", zh: "✅ 已找到ModelScope token（离线模式，未向服务器验证）" },
  statusNotLoggedIn: { en: "❌ Not logged in to ModelScope", zh: "❌ ModelScope未登录" },
  statusRunLogin: { en: "Run: modelscope login", zh: "请运行: modelscope login" },
  statusRejected: { en: "❌ The hub rejected the token", zh: "❌ 服务器拒绝了该token" },
  statusUnreachable: { en: "❌ Could not check the token with the hub", zh: "❌ 无法向服务器验证token" },
  // deepcompressor (configs)
  dcNothingToFetch: { en: "Nothing to fetch: the config has no model: or pipeline: section", zh: "没有需要下载的内容：配置中没有 model: 或 pipeline: 部分" },
  dcNothingToFetchFix: { en: "add a model: (LLM) or pipeline: (diffusion) section with a path, or pass --model-path", zh: "请添加带 path 的 model:（LLM）或 pipeline:（扩散模型）部分，或传入 --model-path" },
  dcUntouched: { en: "{section}: left as is ({reason})", zh: "{section}：保持不变（{reason}）" },
  dcLocal: { en: "{section}: local folder {path}", zh: "{section}：本地文件夹 {path}" },
  dcFetching: { en: "{section}: {id} ({revision}) from ModelScope, {reason}", zh: "{section}：从 ModelScope 获取 {id}（{revision}），{reason}" },
  dcFetched: { en: "{section}: {id} -> {path} ({files} files: {downloaded} downloaded, {cached} cached, {planned} planned)", zh: "{section}：{id} -> {path}（{files} 个文件：下载 {downloaded}，已缓存 {cached}，计划 {planned}）" },
  dcResolving: { en: "while resolving {key} ({where})", zh: "解析 {key} 时出错（{where}）" },
  dcWroteResolved: { en: "Wrote {path}", zh: "已写入 {path}" },
  dcOutputDryRun: { en: "--output cannot be used with --dry-run (a dry run writes nothing)", zh: "--output 不能与 --dry-run 一起使用（试运行不写入任何文件）" },
  dcValid: { en: "OK: {files}", zh: "配置有效：{files}" },
  dcNoSections: { en: "no model: or pipeline: section (nothing to resolve)", zh: "没有 model: 或 pipeline: 部分（无需解析）" },
  dcPythonNotFound: { en: "Python interpreter '{python}' not found", zh: "找不到 Python 解释器 '{python}'" },
  dcPythonNotFoundFix: {
    en: "install Python 3 with the DeepCompressor package, or set DEEPCOMPRESSOR_PYTHON to the python that has it",
    zh: "请安装带有 DeepCompressor 包的 Python 3，或将 DEEPCOMPRESSOR_PYTHON 设为已安装它的 python",
  },
  dcPackageMissing: { en: "The Python DeepCompressor is not installed for {python}", zh: "{python} 中没有安装 Python 版 DeepCompressor" },
  dcPackageMissingFix: {
    en: "install it with `{python} -m pip install git+https://github.com/mit-han-lab/deepcompressor.git` (or `poetry install` in a clone), or set DEEPCOMPRESSOR_PYTHON to the python that has it",
    zh: "请运行 `{python} -m pip install git+https://github.com/mit-han-lab/deepcompressor.git`（或在克隆的仓库中运行 `poetry install`）安装，或将 DEEPCOMPRESSOR_PYTHON 设为已安装它的 python",
  },
  dcWarning: { en: "Warning: {problem}", zh: "警告：{problem}" },
  dcOutName: { en: "Warning: {file} does not end in .yaml, so the Python DeepCompressor would read it as a list of config paths: name it resolved.yaml", zh: "警告：{file} 不以 .yaml 结尾，Python 版 DeepCompressor 会把它当作配置路径列表：请命名为 resolved.yaml" },
  dcOutPlace: { en: "Warning: the Python DeepCompressor only reads configs in a subfolder of the working folder, so it will refuse {file}: write it to {suggestion}", zh: "警告：Python 版 DeepCompressor 只读取工作目录子文件夹中的配置，会拒绝 {file}：请写到 {suggestion}" },
  dcOutDefaults: { en: "Warning: the Python DeepCompressor would merge {defaults} into {file}, which this config did not use: write it to a folder without a __default__ file, such as {suggestion}", zh: "警告：Python 版 DeepCompressor 会把 {defaults} 合并进 {file}，而此配置并未使用它：请写到没有 __default__ 文件的文件夹，例如 {suggestion}" },
  dcRunning: { en: "Running: {command}", zh: "运行：{command}" },
  // download and cache (summary sentences; data rows stay as they are, for scripts)
  retrying: { en: "{why}; retrying in {delay} ({attempt} of {of})...", zh: "{why}；{delay} 后重试（第 {attempt} 次，共 {of} 次）..." },
  dlSummary: { en: "Downloaded {files} file(s), {size}, in {time} ({cached} already there).", zh: "已下载 {files} 个文件（{size}），用时 {time}（{cached} 个已存在）。" },
  dlWouldDownload: { en: "Would download {count} file(s), {size}, into {path}", zh: "将下载 {count} 个文件（{size}）到 {path}" },
  // create and upload
  repoCreated: { en: "Created {visibility} repository {id}: {url}", zh: "已创建{visibility}仓库 {id}：{url}" },
  repoExisted: { en: "Repository {id} already exists: {url}", zh: "仓库 {id} 已存在：{url}" },
  upCommitted: { en: "Uploaded {files} file(s) to {id}@{revision}: {sent} new blob(s), {bytes} sent, {same} unchanged; commit {commit}", zh: "已上传 {files} 个文件到 {id}@{revision}：新数据 {sent} 个，发送 {bytes}，{same} 个未变；提交 {commit}" },
  upNothing: { en: "Nothing to upload: {id}@{revision} already has these {files} file(s)", zh: "无需上传：{id}@{revision} 已包含这 {files} 个文件" },
  upWould: { en: "Would upload {count} file(s), {size}, to {id}@{revision} ({same} unchanged)", zh: "将上传 {count} 个文件（{size}）到 {id}@{revision}（{same} 个未变）" },
  upCreatedRepo: { en: "Created private repository {id}", zh: "已创建私有仓库 {id}" },
  cacheRevisionScope: { en: "{id} (revision {revision})", zh: "{id}（版本 {revision}）" },
  cacheRemoveConfirm: { en: "Remove {scope} from the cache? [y/N] ", zh: "从缓存中删除 {scope}？[y/N] " },
  cacheAborted: { en: "Aborted.", zh: "已取消。" },
  cacheNotInCache: { en: "{scope} is not in the cache.", zh: "缓存中没有 {scope}。" },
  cacheFreed: { en: "Removed {scope}: freed {size} from cache.", zh: "已删除 {scope}：从缓存中释放 {size}。" },
  cacheIncomplete: { en: "[incomplete: {count} partial file(s)]", zh: "[未完成：{count} 个部分下载的文件]" },
  cacheIncompleteFix: {
    en: "Incomplete: run the same `modelscope download` again to finish, or `modelscope cache prune` to drop the partial files.",
    zh: "未完成：重新运行同一条 `modelscope download` 即可完成下载，或运行 `modelscope cache prune` 删除部分下载的文件。",
  },
  cacheVerified: { en: "Verified {count} file(s) for model '{id}' at {path}.", zh: "已校验模型 '{id}' 的 {count} 个文件，位于 {path}。" },
  cacheRepaired: { en: "Downloaded {count} corrupt file(s) of '{id}' again.", zh: "已重新下载 '{id}' 的 {count} 个损坏文件。" },
  cachePruned: {
    en: "Freed {size}: {partials} partial download(s), {locks} stale lock(s), {orphans} orphan record(s).",
    zh: "已释放 {size}：{partials} 个未完成的下载，{locks} 个失效的锁，{orphans} 条孤立记录。",
  },
  cacheWouldPrune: {
    en: "Would free {size}: {partials} partial download(s), {locks} stale lock(s), {orphans} orphan record(s).",
    zh: "将释放 {size}：{partials} 个未完成的下载，{locks} 个失效的锁，{orphans} 条孤立记录。",
  },
} satisfies Record<string, Text>;

export type TextKey = keyof typeof TEXT;

export function t(lang: Lang, key: TextKey, vars: Record<string, string> = {}): string {
  return fillVars(TEXT[key][lang], vars);
}

/** `{x}` in a message, filled from `vars` (left as it is when missing); values are outside text, escaped for a terminal. */
function fillVars(text: string, vars: Record<string, string>): string {
  return text.replace(/\{(\w+)\}/g, (_, k: string) => (vars[k] === undefined ? `{${k}}` : forTerminal(vars[k])));
}

/** commander's own usage errors, by their English text (commander has no message keys): pattern → Chinese. */
const PARSE_ERROR_ZH: [RegExp, string][] = [
  [/^unknown option '(.+)'$/, "未知选项 '$1'"],
  [/^unknown command '(.+)'$/, "未知命令 '$1'"],
  [/^missing required argument '(.+)'$/, "缺少必需的参数 '$1'"],
  [/^option '(.+)' argument missing$/, "选项 '$1' 缺少值"],
  [/^required option '(.+)' not specified$/, "缺少必需的选项 '$1'"],
  [/^too many arguments(?: for '.+')?\. Expected (\d+) arguments? but got (\d+)\.$/, "参数过多：应为 $1 个，实际为 $2 个"],
  [/^(.+) cannot be used with (.+)$/, "$1 不能与 $2 同时使用"],
];

/**
 * A commander parse error ("error: unknown option '--x'\n(Did you mean --y?)") as our one line and a fix:
 * the suggestion moves into the fix, which names the command's own --help. Unknown shapes keep the English.
 */
export function explainParseError(message: string, lang: Lang, command: string): { line: string; fix: string } {
  const [first = "", ...rest] = message.trim().replace(/^error: /, "").split("\n");
  const suggestion = /^\(Did you mean (.+)\?\)$/.exec(rest.join(" ").trim())?.[1];
  if (lang === "zh") {
    const zh = PARSE_ERROR_ZH.find(([re]) => re.test(first));
    const line = zh ? first.replace(zh[0], zh[1]) : first;
    const help = `运行 \`${command} --help\` 查看用法`;
    return { line: `错误：${line}`, fix: suggestion ? `是否想输入 ${suggestion.replace(/^one of /, "")}？${help}` : help };
  }
  const help = `run \`${command} --help\` for usage`;
  return { line: `Error: ${first}`, fix: suggestion ? `did you mean ${suggestion}? Or ${help}` : help };
}
