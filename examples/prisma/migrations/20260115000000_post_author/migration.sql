-- AlterTable
ALTER TABLE "Post" ADD COLUMN "author" TEXT;

-- CreateIndex
CREATE INDEX "Post_author_idx" ON "Post"("author");
