// The node's MongoDB service user (run by docker compose's mongo-setup, as root).
// readWrite on the node's own databases and nothing else: no `local` (the oplog,
// where a ballot and its participation sit in one transaction), no `admin`, no
// other database. Idempotent: a second run updates the password and roles.
const prefix = process.env.DB_PREFIX || "maillage_";
const services = ["boards", "participation", "offerings", "indicators", "federation", "gateway"];
const user = process.env.MAILLAGE_MONGO_USER || "maillage";
const pwd = process.env.MAILLAGE_MONGO_PASSWORD;
if (!pwd) {
  throw new Error("MAILLAGE_MONGO_PASSWORD manquant / missing");
}
const roles = services.map((name) => ({ role: "readWrite", db: prefix + name }));
const admin = db.getSiblingDB("admin");
if (admin.getUser(user)) {
  admin.updateUser(user, { pwd: pwd, roles: roles });
} else {
  admin.createUser({ user: user, pwd: pwd, roles: roles });
}
print(`service user ${user}: readWrite on ${roles.map((r) => r.db).join(", ")}`);
